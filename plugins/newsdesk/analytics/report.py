"""``newsdesk report``: one self-contained HTML file for analysts.

Data is queried here and embedded as JSON; the page's own inline script draws the
charts as SVG (no CDN, no network: the file works offline and from e-mail). Every
string that came from the web (titles, URLs, names) reaches the page through
``textContent``/attributes only, never as HTML.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Engine

from ..times import as_utc
from .search import COPY_RELATIONS

_COPY_IN = "(" + ", ".join(f"'{r}'" for r in COPY_RELATIONS) + ")"




def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def collect(engine: Engine, since=None, top_clusters: int = 15, top_edges: int = 40) -> dict:
    """Everything the report shows, as plain JSON-able data."""
    since_dt = as_utc(since) if since is not None else datetime.now(timezone.utc) - timedelta(days=30)
    ts = bindparam("since", type_=DateTime(timezone=True))
    p = {"since": since_dt}
    since_day = since_dt.date().isoformat()
    with engine.connect() as conn:
        volume = [
            {"day": _iso(r.day)[:10], "source": r.source, "articles": int(r.articles),
             "originals": int(r.originals), "copies": int(r.copies)}
            for r in conn.execute(text(
                "SELECT day, source, articles, originals, copies FROM v_daily_volume ORDER BY day, source"))
            if _iso(r.day)[:10] >= since_day
        ]
        clusters = conn.execute(text(f"""
            SELECT c.id AS cluster_id, o.id AS original_id, o.title, o.url, o.published_at,
                   so.name AS source, COUNT(a.id) AS copies
            FROM clusters c
            JOIN articles o ON o.id = c.original_article_id
            JOIN articles a ON a.cluster_id = c.id AND a.id <> o.id AND a.relation IN {_COPY_IN}
            LEFT JOIN sources so ON so.id = o.source_id
            WHERE COALESCE(o.published_at, o.extracted_at) >= :since
            GROUP BY c.id, o.id, o.title, o.url, o.published_at, so.name
            ORDER BY COUNT(a.id) DESC, o.published_at DESC, c.id
            LIMIT :n""").bindparams(ts), dict(p, n=top_clusters)).all()
        cluster_rows = []
        for r in clusters:
            reps = conn.execute(text("""
                SELECT COALESCE(s.name, a.domain) AS source, a.relation, a.similarity, a.url
                FROM articles a LEFT JOIN sources s ON s.id = a.source_id
                WHERE a.cluster_id = :c AND a.id <> :o ORDER BY a.similarity DESC, a.id"""),
                {"c": r.cluster_id, "o": r.original_id}).all()
            cluster_rows.append({
                "cluster_id": r.cluster_id, "title": r.title or "(untitled)", "url": r.url, "source": r.source,
                "published_at": _iso(r.published_at), "copies": int(r.copies),
                "republishers": [{"source": x.source, "relation": x.relation, "url": x.url,
                                  "similarity": None if x.similarity is None else round(float(x.similarity), 3)}
                                 for x in reps],
            })
        edges = [
            {"from": r.republisher, "to": r.source, "copies": int(r.copies)}
            for r in conn.execute(text(f"""
                SELECT COALESCE(sc.name, a.domain) AS republisher, COALESCE(so.name, o.domain) AS source,
                       COUNT(*) AS copies
                FROM articles a
                JOIN clusters c ON c.id = a.cluster_id
                JOIN articles o ON o.id = c.original_article_id
                LEFT JOIN sources sc ON sc.id = a.source_id
                LEFT JOIN sources so ON so.id = o.source_id
                WHERE a.id <> o.id AND a.relation IN {_COPY_IN}
                  AND COALESCE(a.source_id, -1) <> COALESCE(o.source_id, -2)
                  AND COALESCE(a.published_at, a.extracted_at) >= :since
                GROUP BY COALESCE(sc.name, a.domain), COALESCE(so.name, o.domain)
                ORDER BY COUNT(*) DESC, 1, 2
                LIMIT :n""").bindparams(ts), dict(p, n=top_edges))
        ]
        feeds = [
            {"feed_id": r.feed_id, "source": r.source, "url": r.url, "health": r.health,
             "last_polled_at": _iso(r.last_polled_at), "last_outcome": r.last_outcome,
             "last_status": r.last_status, "last_error": r.last_error,
             "consecutive_failures": int(r.consecutive_failures or 0), "polls_24h": int(r.polls_24h),
             "failures_24h": int(r.failures_24h),
             "error_rate_24h": None if r.error_rate_24h is None else round(float(r.error_rate_24h), 3),
             "new_entries_7d": int(r.new_entries_7d), "disabled": bool(r.disabled)}
            for r in conn.execute(text("SELECT * FROM v_feed_health ORDER BY source, url"))
        ]
        totals = conn.execute(text(f"""
            SELECT COUNT(*) AS articles,
                   SUM(CASE WHEN relation IN {_COPY_IN} THEN 1 ELSE 0 END) AS copies,
                   COUNT(DISTINCT source_id) AS sources
            FROM articles WHERE COALESCE(published_at, extracted_at) >= :since""").bindparams(ts), p).one()
    return {
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "since": since_dt.isoformat(),
        "totals": {"articles": int(totals.articles or 0), "copies": int(totals.copies or 0),
                   "sources": int(totals.sources or 0), "feeds": len(feeds),
                   "feeds_unhealthy": sum(1 for f in feeds if f["health"] in ("failing", "disabled"))},
        "volume": volume, "clusters": cluster_rows, "edges": edges, "feeds": feeds,
    }


def _json_for_script(data: dict) -> str:
    # Inside <script type="application/json">: "<" escaped so "</script>" in a title cannot close it.
    return (json.dumps(data, ensure_ascii=False, default=str)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render(data: dict, title: str = "newsdesk report") -> str:
    return (_TEMPLATE.replace("__TITLE__", html.escape(title))
            .replace("__CSS__", _CSS).replace("__JS__", _JS).replace("__DATA__", _json_for_script(data)))


def write_report(engine: Engine, out: str | Path, since=None, title: str | None = None) -> dict:
    data = collect(engine, since=since)
    since_label = data["since"][:10]
    page = render(data, title or f"newsdesk — news since {since_label}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return {"out": str(out), "bytes": out.stat().st_size, "days": len({v["day"] for v in data["volume"]}),
            "clusters": len(data["clusters"]), "edges": len(data["edges"]), "feeds": len(data["feeds"])}


_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>__TITLE__</title>
<style>__CSS__</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <p id="meta" class="muted"></p>
  <div id="totals" class="totals"></div>
</header>
<main>
  <section id="volume-section"><h2>Articles per day, by source</h2>
    <p class="muted">Stacked by source; the dark line is the number of copies (syndicated republications) per day.</p>
    <div id="volume" class="chart"></div><div id="volume-legend" class="legend"></div></section>
  <section id="clusters-section"><h2>Biggest syndication clusters</h2>
    <p class="muted">Originals with the most copies on other outlets. Hover a bar for the republishers.</p>
    <div id="clusters" class="chart"></div></section>
  <section id="network-section"><h2>Who republishes whom</h2>
    <p class="muted">Arrows go from a republisher to the source of the original; width is the number of copies.</p>
    <div id="network" class="chart"></div></section>
  <section id="feeds-section"><h2>Feed health</h2>
    <p class="muted">Error rate over the last 24 hours per feed, and the state of every feed.</p>
    <div id="feeds" class="chart"></div><div id="feeds-table"></div></section>
</main>
<footer class="muted">Generated by newsdesk. Self-contained: no network access needed.</footer>
<script id="report-data" type="application/json">__DATA__</script>
<script>__JS__</script>
</body>
</html>
"""

_CSS = """
:root { --fg:#1d2433; --muted:#6b7280; --line:#e5e7eb; --bg:#ffffff; --accent:#2563eb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--fg); background: #f7f8fa; margin: 0; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 4px; }
section { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 16px 0; }
.muted { color: var(--muted); margin: 0 0 10px; }
.totals { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0 0; }
.totals div { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; }
.totals b { display: block; font-size: 20px; }
.chart svg { display: block; width: 100%; height: auto; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-top: 8px; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 5px;
                       border-radius: 2px; background: var(--c); vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin-top: 10px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11.5px; color: #fff; }
.h-ok { background: #16a34a; } .h-stale { background: #ca8a04; } .h-failing { background: #dc2626; }
.h-disabled { background: #6b7280; } .h-never_polled { background: #9ca3af; }
.empty { color: var(--muted); font-style: italic; padding: 12px 0; }
svg text { font-family: inherit; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
"""

_JS = r"""
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04",
                 "#db2777", "#4b5563", "#65a30d", "#7c3aed", "#0d9488"];
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]); }
    if (parent) parent.appendChild(node);
    return node;
  }
  function txt(parent, x, y, s, attrs) {
    var t = el("text", Object.assign({x: x, y: y}, attrs || {}), parent);
    t.textContent = s;
    return t;
  }
  function tip(node, s) { var t = el("title", {}, node); t.textContent = s; return node; }
  function svg(container, w, h, label) {
    var s = el("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img", "aria-label": label});
    container.appendChild(s);
    return s;
  }
  function html(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  function empty(container, message) { container.appendChild(html("div", message, "empty")); }
  function clip(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }
  function niceMax(v) {  // a maximum whose quarters are round integers
    if (v <= 4) return 4;
    var raw = v / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return 4 * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function addDays(iso, n) {
    var d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  }

  function header() {
    document.getElementById("meta").textContent =
      "Articles published since " + data.since.slice(0, 10) + " \u00b7 generated " + data.generated_at.replace("T", " ");
    var t = data.totals, box = document.getElementById("totals");
    [["articles", t.articles], ["copies", t.copies], ["sources", t.sources], ["feeds", t.feeds],
     ["feeds failing or disabled", t.feeds_unhealthy]].forEach(function (kv) {
      var d = html("div"); var b = html("b", kv[1]); d.appendChild(b); d.appendChild(document.createTextNode(kv[0]));
      box.appendChild(d);
    });
  }

  function volumeChart() {
    var box = document.getElementById("volume"), legend = document.getElementById("volume-legend");
    if (!data.volume.length) { empty(box, "No articles in this period."); return; }
    var totalsBySource = {}, days = {}, first = null, last = null;
    data.volume.forEach(function (r) {
      totalsBySource[r.source] = (totalsBySource[r.source] || 0) + r.articles;
      if (first === null || r.day < first) first = r.day;
      if (last === null || r.day > last) last = r.day;
    });
    var ranked = Object.keys(totalsBySource).sort(function (a, b) { return totalsBySource[b] - totalsBySource[a] || (a < b ? -1 : 1); });
    var top = ranked.slice(0, 10), color = {};
    top.forEach(function (s, i) { color[s] = PALETTE[i % PALETTE.length]; });
    var hasOther = ranked.length > top.length; if (hasOther) color["other sources"] = "#cbd5e1";
    var dayList = []; for (var d = first; d <= last; d = addDays(d, 1)) { dayList.push(d); days[d] = {stack: {}, total: 0, copies: 0}; if (dayList.length > 400) break; }
    data.volume.forEach(function (r) {
      var day = days[r.day]; if (!day) return;
      var key = color[r.source] ? r.source : "other sources";
      day.stack[key] = (day.stack[key] || 0) + r.articles; day.total += r.articles; day.copies += r.copies;
    });
    var W = 1040, H = 320, L = 44, R = 12, T = 12, B = 46;
    var s = svg(box, W, H, "Articles per day by source");
    var max = niceMax(Math.max.apply(null, dayList.map(function (d) { return days[d].total; })));
    var pw = W - L - R, ph = H - T - B, bw = pw / dayList.length;
    for (var g = 0; g <= 4; g++) {
      var gy = T + ph - ph * g / 4;
      el("line", {x1: L, x2: W - R, y1: gy, y2: gy, stroke: "#e5e7eb"}, s);
      txt(s, L - 6, gy + 4, String(Math.round(max * g / 4)), {"text-anchor": "end", "font-size": 11});
    }
    var order = top.concat(hasOther ? ["other sources"] : []);
    var step = Math.max(1, Math.ceil(dayList.length / 14));
    dayList.forEach(function (d, i) {
      var x = L + i * bw, y = T + ph, info = days[d];
      order.forEach(function (src) {
        var v = info.stack[src] || 0; if (!v) return;
        var h = ph * v / max; y -= h;
        tip(el("rect", {x: x + bw * 0.12, y: y, width: Math.max(1, bw * 0.76), height: h, fill: color[src], "class": "bar"}, s),
            d + " \u00b7 " + src + ": " + v + " article" + (v === 1 ? "" : "s"));
      });
      if (i % step === 0) txt(s, x + bw / 2, H - B + 16, d.slice(5), {"text-anchor": "middle", "font-size": 11});
    });
    var pts = dayList.map(function (d, i) { return (L + i * bw + bw / 2) + "," + (T + ph - ph * days[d].copies / max); });
    el("polyline", {points: pts.join(" "), fill: "none", stroke: "#111827", "stroke-width": 2, "class": "copies-line"}, s);
    dayList.forEach(function (d, i) {
      tip(el("circle", {cx: L + i * bw + bw / 2, cy: T + ph - ph * days[d].copies / max, r: 3, fill: "#111827"}, s),
          d + ": " + days[d].copies + " copies of " + days[d].total + " articles");
    });
    txt(s, L, H - 8, "UTC day (" + first + " \u2013 " + last + ")", {"font-size": 11, fill: "#6b7280"});
    order.forEach(function (src) {
      var sp = html("span", src + " (" + (src === "other sources" ? "" : totalsBySource[src]) + ")");
      if (src === "other sources") sp.textContent = "other sources";
      sp.style.setProperty("--c", color[src]); legend.appendChild(sp);
    });
    var cp = html("span", "copies per day"); cp.style.setProperty("--c", "#111827"); legend.appendChild(cp);
  }

  function clustersChart() {
    var box = document.getElementById("clusters");
    if (!data.clusters.length) { empty(box, "No syndicated stories in this period."); return; }
    var rows = data.clusters, rowH = 30, L = 440, W = 1040, R = 150, H = rows.length * rowH + 24;
    var s = svg(box, W, H, "Biggest syndication clusters");
    var max = niceMax(Math.max.apply(null, rows.map(function (r) { return r.copies; })));
    rows.forEach(function (r, i) {
      var y = 8 + i * rowH, w = (W - L - R) * r.copies / max;
      var a = el("a", {href: r.url, target: "_blank", rel: "noopener noreferrer"}, s);
      txt(a, L - 10, y + 17, clip(r.title, 62), {"text-anchor": "end", "font-size": 12.5});
      var reps = r.republishers.map(function (x) { return x.source + " (" + x.relation + ")"; }).join(", ");
      tip(el("rect", {x: L, y: y + 4, width: Math.max(2, w), height: rowH - 10, rx: 3, fill: "#2563eb", "class": "bar"}, s),
          r.title + "\n" + (r.source || "") + " \u00b7 " + (r.published_at || "").slice(0, 16).replace("T", " ") +
          "\n" + r.copies + " copies: " + reps);
      var label = txt(s, L + Math.max(2, w) + 6, y + 17, String(r.copies), {"font-size": 12, "font-weight": 600});
      var by = el("tspan", {"font-weight": 400, fill: "#6b7280"}, label);
      by.textContent = " \u00b7 " + (r.source || "?");
    });
  }

  function networkChart() {
    var box = document.getElementById("network");
    if (!data.edges.length) { empty(box, "No republication between outlets in this period."); return; }
    var nodes = {}, names = [];
    data.edges.forEach(function (e) {
      [e.from, e.to].forEach(function (n) { if (!nodes[n]) { nodes[n] = {name: n, out: 0, inn: 0}; names.push(n); } });
      nodes[e.from].out += e.copies; nodes[e.to].inn += e.copies;
    });
    // Sources of originals on the left half of the circle, pure republishers on the right.
    names.sort(function (a, b) {
      var ra = nodes[a].inn > 0 ? 0 : 1, rb = nodes[b].inn > 0 ? 0 : 1;
      return ra - rb || (nodes[b].inn + nodes[b].out) - (nodes[a].inn + nodes[a].out) || (a < b ? -1 : 1);
    });
    var W = 1040, H = 560, cx = W / 2, cy = H / 2, rad = Math.min(W, H) / 2 - 90;
    var s = svg(box, W, H, "Republisher to source network");
    var defs = el("defs", {}, s);
    var m = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
                          orient: "auto-start-reverse", markerUnits: "userSpaceOnUse"}, defs);
    el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#64748b"}, m);
    var maxW = Math.max.apply(null, data.edges.map(function (e) { return e.copies; }));
    names.forEach(function (n, i) {
      var a = Math.PI / 2 + 2 * Math.PI * i / names.length;
      nodes[n].x = cx - rad * Math.cos(a); nodes[n].y = cy + rad * Math.sin(a) * 0.92;
      nodes[n].r = 6 + 14 * Math.sqrt((nodes[n].inn + nodes[n].out) / (2 * maxW + 1));
    });
    var edgeLayer = el("g", {"class": "edges"}, s), nodeLayer = el("g", {"class": "nodes"}, s);
    data.edges.forEach(function (e) {
      var a = nodes[e.from], b = nodes[e.to];
      var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var sx = a.x + dx / len * a.r, sy = a.y + dy / len * a.r, tx = b.x - dx / len * (b.r + 2), ty = b.y - dy / len * (b.r + 2);
      var mx = (sx + tx) / 2 - dy * 0.12, my = (sy + ty) / 2 + dx * 0.12;
      tip(el("path", {d: "M" + sx + "," + sy + " Q" + mx + "," + my + " " + tx + "," + ty, fill: "none",
                      stroke: "#64748b", "stroke-opacity": 0.65, "stroke-width": 1 + 6 * e.copies / maxW,
                      "marker-end": "url(#arrow)", "class": "edge"}, edgeLayer),
          e.from + " \u2192 " + e.to + ": " + e.copies + " cop" + (e.copies === 1 ? "y" : "ies"));
    });
    names.forEach(function (n) {
      var d = nodes[n], g = el("g", {"class": "node"}, nodeLayer);
      tip(el("circle", {cx: d.x, cy: d.y, r: d.r, fill: d.inn > 0 ? "#f97316" : "#2563eb", stroke: "#fff", "stroke-width": 2}, g),
          n + ": " + d.inn + " of its stories copied, " + d.out + " copies published");
      var right = d.x >= cx;
      txt(g, d.x + (right ? d.r + 6 : -d.r - 6), d.y + 4, clip(n, 26), {"text-anchor": right ? "start" : "end", "font-size": 12});
    });
    txt(s, 12, H - 28, "\u25cf source of originals", {fill: "#f97316", "font-size": 12});
    txt(s, 12, H - 10, "\u25cf republisher only", {fill: "#2563eb", "font-size": 12});
  }

  function feedsChart() {
    var box = document.getElementById("feeds"), tableBox = document.getElementById("feeds-table");
    if (!data.feeds.length) { empty(box, "No feeds."); return; }
    var colors = {ok: "#16a34a", stale: "#ca8a04", failing: "#dc2626", disabled: "#6b7280", never_polled: "#9ca3af"};
    var rows = data.feeds, rowH = 24, L = 330, W = 1040, R = 120, H = rows.length * rowH + 30;
    var s = svg(box, W, H, "Feed error rate over 24 hours");
    for (var g = 0; g <= 4; g++) {
      var gx = L + (W - L - R) * g / 4;
      el("line", {x1: gx, x2: gx, y1: 4, y2: H - 22, stroke: "#e5e7eb"}, s);
      txt(s, gx, H - 6, (g * 25) + "%", {"text-anchor": "middle", "font-size": 11});
    }
    rows.forEach(function (f, i) {
      var y = 6 + i * rowH, rate = f.error_rate_24h === null ? 0 : f.error_rate_24h;
      txt(s, L - 10, y + 15, clip((f.source || "?") + " \u00b7 " + f.url.replace(/^https?:\/\//, ""), 48), {"text-anchor": "end", "font-size": 12});
      tip(el("rect", {x: L, y: y + 3, width: Math.max(2, (W - L - R) * rate), height: rowH - 8, rx: 3,
                      fill: colors[f.health] || "#9ca3af", "class": "bar"}, s),
          f.url + "\n" + f.health + ": " + f.failures_24h + " failed of " + f.polls_24h + " polls in 24h");
      txt(s, W - R + 8, y + 15, f.polls_24h ? Math.round(rate * 100) + "% of " + f.polls_24h : "no polls",
          {"font-size": 11.5, fill: "#6b7280"});
    });
    var t = html("table"), head = html("tr");
    ["feed", "health", "last poll", "status", "polls 24h", "errors 24h", "new 7d", "failures in a row", "last error"]
      .forEach(function (h) { head.appendChild(html("th", h)); });
    t.appendChild(head);
    rows.forEach(function (f) {
      var tr = html("tr"), feed = html("td");
      feed.appendChild(html("div", f.source || "?")); var u = html("div", f.url, "muted"); u.style.margin = "0"; feed.appendChild(u);
      tr.appendChild(feed);
      var hc = html("td"); hc.appendChild(html("span", f.health.replace("_", " "), "badge h-" + f.health)); tr.appendChild(hc);
      tr.appendChild(html("td", f.last_polled_at ? f.last_polled_at.slice(0, 16).replace("T", " ") : "never"));
      tr.appendChild(html("td", (f.last_outcome || "") + (f.last_status ? " " + f.last_status : "")));
      tr.appendChild(html("td", f.polls_24h, "num")); tr.appendChild(html("td", f.failures_24h, "num"));
      tr.appendChild(html("td", f.new_entries_7d, "num")); tr.appendChild(html("td", f.consecutive_failures, "num"));
      tr.appendChild(html("td", clip(f.last_error || "", 80)));
      t.appendChild(tr);
    });
    tableBox.appendChild(t);
  }

  var failures = [];
  [header, volumeChart, clustersChart, networkChart, feedsChart].forEach(function (draw) {
    try { draw(); } catch (err) { failures.push(draw.name + ": " + err); console.error("report: " + draw.name + " failed", err); }
  });
  document.body.setAttribute("data-rendered", failures.length ? "partial" : "yes");
  window.__newsdeskReport = {failures: failures, charts: document.querySelectorAll("main svg").length};
})();
"""
