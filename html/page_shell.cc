#include "html/page_shell.h"

#include "html/html_text.h"

namespace resmeter::html {

const std::string_view kPageScript =
    "(function(){var d=document,q=[];"
    "function flush(){var l=d.getElementById('page-problems');if(!l||!q.length)return;"
    "while(q.length){var i=d.createElement('li');i.textContent=q.shift();l.appendChild(i);}"
    "l.parentNode.hidden=false;}"
    "function note(m){q.push(m);flush();}"
    "d.addEventListener('securitypolicyviolation',function(e){"
    "note('blocked '+e.violatedDirective+': '+(e.blockedURI||'inline'));});"
    "window.addEventListener('error',function(e){note('script error: '+e.message);});"
    "d.addEventListener('DOMContentLoaded',flush);"
    "window.addEventListener('load',function(){void d.body.offsetHeight;"
    "d.documentElement.setAttribute('data-render-ms',String(Math.round(performance.now())));});"
    "})();";

const std::string_view kPageScriptHash = "sha256-u6b2iD/e80t5s2RV3dn2T65aZpLvp0ElQywTBGGMLw4=";

namespace {

const char kStyle[] = R"css(
:root{--ok:#1b7f3b;--bad:#b3261e;--warn:#9a6700;--muted:#5f6368;--line:#d0d7de}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1120px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:16px;margin:0}
.verdict{border-radius:8px;padding:14px 18px;color:#fff;margin:8px 0 16px}
.verdict.accepted{background:var(--ok)}.verdict.rejected{background:var(--bad)}
.verdict .word{font-size:26px;font-weight:700;letter-spacing:.5px}
.verdict ul{margin:6px 0 0 18px;padding:0}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.panel,.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card{margin:14px 0}
.card header{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap;margin-bottom:8px}
.badge{border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff;background:var(--muted)}
.badge.ok,.badge.passed{background:var(--ok)}.badge.failed,.badge.error{background:var(--bad)}
.badge.unavailable,.badge.warning{background:var(--warn)}.badge.not_applicable{background:#8c959f}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.fail td{background:#fdecea}tr.warn td{background:#fff4d6}
.muted,.note{color:var(--muted)}.note{margin:2px 0 6px;font-size:12px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
.findings li{color:var(--bad)}
details summary{cursor:pointer;color:var(--muted)}
table.nested{margin:0}table.nested td,table.nested th{border-bottom:none;padding:1px 6px;font-size:12px}
figure.plot{margin:10px 0;overflow-x:auto}figure.plot figcaption{font-weight:600}
svg.chart{background:#fff;font-size:11px;max-width:100%;height:auto}
svg .grid line{stroke:#eaeef2}svg .tick{fill:#57606a}svg .frame{fill:none;stroke:#8c959f}
svg .axis-label{fill:#1f2328;font-size:12px}
svg .series polyline{fill:none;stroke-width:1.8}
svg .marker line{stroke-width:1.3}svg .marker.dashed line{stroke-dasharray:4 3}svg .marker text{font-size:10px}
svg .band{fill:#8c959f;opacity:.35}svg .band-bad{fill:#cf222e;opacity:.3}svg .band-gap{fill:#57606a;opacity:.35}
svg .bar rect{fill:#0969da}svg .bar.bad rect{fill:var(--bad)}svg .bar-value{fill:#1f2328}
.c0 polyline,.c0 line{stroke:#0969da}.c0 circle,.c0 rect,.c0 text{fill:#0969da}
.c1 polyline,.c1 line{stroke:#cf222e}.c1 circle,.c1 rect,.c1 text{fill:#cf222e}
.c2 polyline,.c2 line{stroke:#1a7f37}.c2 circle,.c2 rect,.c2 text{fill:#1a7f37}
.c3 polyline,.c3 line{stroke:#8250df}.c3 circle,.c3 rect,.c3 text{fill:#8250df}
.c4 polyline,.c4 line{stroke:#bc4c00}.c4 circle,.c4 rect,.c4 text{fill:#bc4c00}
.c5 polyline,.c5 line{stroke:#1b7c83}.c5 circle,.c5 rect,.c5 text{fill:#1b7c83}
.c6 polyline,.c6 line{stroke:#6e7781}.c6 circle,.c6 rect,.c6 text{fill:#6e7781}
.c7 polyline,.c7 line{stroke:#bf3989}.c7 circle,.c7 rect,.c7 text{fill:#bf3989}
svg .legend text{fill:#1f2328}
.problems{border:2px solid var(--bad);background:#fdecea;padding:8px 14px;border-radius:8px}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}.card,.panel{break-inside:avoid}}
)css";

}  // namespace

std::string Page(std::string_view title, std::string_view body_html) {
  std::string out;
  out.reserve(body_html.size() + 8192);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "script-src '";
  out += kPageScriptHash;
  out += "'; img-src data:; base-uri 'none'; form-action 'none'\">";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<meta name=\"referrer\" content=\"no-referrer\">";
  out += "<title>" + Escape(title) + "</title><style>";
  out += kStyle;
  out += "</style><script>";
  out += kPageScript;
  out += "</script></head><body><main>";
  out +=
      "<section class=\"problems\" hidden><strong>This page was blocked from doing something it should not "
      "do:</strong><ul id=\"page-problems\"></ul></section>";
  out += body_html;
  out += "</main></body></html>\n";
  return out;
}

}  // namespace resmeter::html
