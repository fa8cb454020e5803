#!/usr/bin/env bash
# configs/monitoring/ offline: the rule files pass `promtool check rules`, the
# alert unit tests pass (`promtool test rules`), every alert has a firing unit
# test, CamelCase name, a severity, summary/description and a runbook_url
# whose README section exists; the dashboard is importable JSON (unique panel
# ids, every query with a refId and the datasource variable). Its queries
# are evaluated against a live agent by monitoring_stack.sh. About 1 s.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
SRC="$2"
M="$SRC/configs/monitoring"
command -v promtool > /dev/null || { echo "SKIP: promtool not installed (apt-get install prometheus)"; exit 77; }
python3 -c 'import yaml' 2> /dev/null || { echo "SKIP: python3-yaml not installed"; exit 77; }
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }

if out=$(promtool check rules "$M/resmeter-recording.yml" "$M/resmeter-alerts.yml" 2>&1); then ok "promtool check rules"; else bad "promtool check rules: $out"; fi
if out=$(cd "$M/tests" && promtool test rules resmeter-rules.test.yml 2>&1); then ok "promtool test rules"; else bad "promtool test rules:"; echo "$out"; fi

if out=$(python3 - "$M" "$SRC/README.md" <<'PY' 2>&1
import json, re, sys, yaml
m, readme = sys.argv[1], sys.argv[2]
problems = []
# README headings -> GitHub anchors.
anchors = set()
for line in open(readme, encoding="utf-8"):
    h = re.match(r"^#+\s+(.*)", line)
    if h:
        slug = re.sub(r"[^\w\- ]", "", h.group(1).strip().lower()).replace(" ", "-")
        anchors.add(slug)
alerts = {}
for group in yaml.safe_load(open(f"{m}/resmeter-alerts.yml"))["groups"]:
    for r in group["rules"]:
        if "alert" not in r:
            continue
        name = r["alert"]
        alerts[name] = r
        if not re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", name):
            problems.append(f"{name}: not CamelCase")
        if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            problems.append(f"{name}: severity must be critical, warning or info")
        ann = r.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                problems.append(f"{name}: no {key}")
        url = ann.get("runbook_url", "")
        anchor = url.split("#", 1)[1] if "#" in url else ""
        if anchor not in anchors:
            problems.append(f"{name}: runbook_url anchor '#{anchor}' is no README heading")
for group in yaml.safe_load(open(f"{m}/resmeter-recording.yml"))["groups"]:
    for r in group["rules"]:
        if not re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", r.get("record", "")):
            problems.append(f"recording rule {r.get('record')}: not level:metric:operations")
tested = set()
for t in yaml.safe_load(open(f"{m}/tests/resmeter-rules.test.yml"))["tests"]:
    for a in t.get("alert_rule_test", []):
        if a.get("exp_alerts"):
            tested.add(a["alertname"])
for name in sorted(set(alerts) - tested):
    problems.append(f"{name}: no unit test where it fires")
d = json.load(open(f"{m}/resmeter-dashboard.json"))
ids = [p["id"] for p in d["panels"]]
if len(ids) != len(set(ids)):
    problems.append("dashboard: duplicate panel ids")
if not d.get("uid") or not d.get("title"):
    problems.append("dashboard: no uid or title")
names = [v["name"] for v in d["templating"]["list"]]
for v in ("datasource", "job", "instance"):
    if v not in names:
        problems.append(f"dashboard: no ${v} variable")
queries = 0
for p in d["panels"]:
    if p["type"] == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${datasource}":
        problems.append(f"panel '{p['title']}': datasource is not ${{datasource}}")
    if not p.get("description"):
        problems.append(f"panel '{p['title']}': no description")
    for t in p.get("targets", []):
        queries += 1
        if not t.get("refId") or not t.get("expr"):
            problems.append(f"panel '{p['title']}': a target without refId or expr")
print(f"{len(alerts)} alerts, all with a firing test; {queries} dashboard queries")
for pr in problems:
    print("PROBLEM " + pr)
sys.exit(1 if problems else 0)
PY
); then ok "$out"; else bad "rules and dashboard lint:"; echo "$out"; fi
echo "$fails failure(s)"
[ "$fails" = 0 ]
