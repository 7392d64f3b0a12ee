/// The console's script and style, built into the binary: no CDN, no build step. The
/// script polls `/api/state` every second and rebuilds the tables with `textContent`
/// only (never `innerHTML`), so nothing from the wire becomes markup; each service's
/// requests per second over the last minute is drawn as a small SVG line.
public enum ConsoleAssets {
    public static let script = #"""
    "use strict";
    const history = {};
    const columns = {
      connections: ["protocol", "client", "server", "state", "age", "bytesIn", "bytesOut"],
      datagrams: ["time", "client", "server", "summary", "bytes"],
      zones: ["zone", "serial"],
      transfers: ["time", "client", "summary", "bytes"],
    };
    function cell(row, text) {
      const td = document.createElement("td");
      td.textContent = String(text);
      row.appendChild(td);
      return td;
    }
    function fill(id, items, make) {
      const body = document.querySelector("#" + id + " tbody");
      if (!body) return;
      const rows = items.map(item => { const tr = document.createElement("tr"); make(tr, item); return tr; });
      body.replaceChildren(...rows);
    }
    function chart(values) {
      const ns = "http://www.w3.org/2000/svg";
      const svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 120 24");
      svg.setAttribute("class", "chart");
      const top = Math.max(1, ...values);
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", values.map((v, i) => (i * 2) + "," + (23 - 22 * v / top)).join(" "));
      svg.appendChild(line);
      return svg;
    }
    async function refresh() {
      try {
        const response = await fetch("/api/state", { cache: "no-store" });
        if (!response.ok) return;
        const state = await response.json();
        fill("services", state.services, (tr, s) => {
          const points = history[s.name] = (history[s.name] || []).concat([Number(s.rate)]).slice(-60);
          tr.dataset.service = s.name;
          [s.name, s.state, s.rate, s.requests].forEach(v => cell(tr, v));
          cell(tr, "").appendChild(chart(points));
        });
        for (const id of Object.keys(columns)) {
          fill(id, state[id], (tr, item) => columns[id].forEach(key => cell(tr, item[key])));
        }
        fill("mails", state.mails, (tr, m) => {
          cell(tr, m.received); cell(tr, m.from); cell(tr, m.to);
          const link = document.createElement("a");
          link.href = "/mail?id=" + m.id;
          link.textContent = m.subject || "(no subject)";
          cell(tr, "").appendChild(link);
          cell(tr, m.size);
        });
        document.body.dataset.updated = String(Date.now());
      } catch (error) {
        document.body.dataset.error = String(error);
      }
    }
    refresh();
    setInterval(refresh, 1000);
    """#

    public static let style = """
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
    h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
    table { border-collapse: collapse; min-width: 40em; background: #fff; }
    th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; font-variant-numeric: tabular-nums; }
    th { background: #eee; } td { white-space: pre-wrap; word-break: break-all; }
    .chart { width: 120px; height: 24px; } .chart polyline { fill: none; stroke: #2a6; stroke-width: 1.5; }
    pre.body { background: #fff; border: 1px solid #ddd; padding: 0.8em; white-space: pre-wrap; }
    iframe.body { width: 100%; height: 24em; border: 1px solid #ddd; background: #fff; }
    """
}
