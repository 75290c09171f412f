// Substitutes Grafana template variables in SQL with Grafana Scenes' own code (test-only; see
// docs/testing.md). Reads {"cases": [...]} as JSON on stdin, writes {"results": [...]}.
//
// A case: {"sql": str, "variables": [{"name", "type": "query"|"custom", "includeAll", "allValue",
// "multi", "options": [{"text", "value"}], "select": null | "$__all" | value | [values]}],
// "format": "plugin" | null | a Scenes format id}. For each variable, in order:
//  - the options are given to MultiValueVariable.updateValueGivenNewOptions, the code Scenes runs
//    after a variable query returns (@grafana/scenes 6.6.3,
//    src/variables/variants/MultiValueVariable.ts: validateAndUpdate -> updateValueGivenNewOptions
//    -> getStateUpdateGivenNewOptions), so no options gives Scenes' empty value;
//  - "select" (if not null) is then applied with changeValueTo, as a user's pick or a URL would.
// The SQL is then interpolated with sceneInterpolator (src/variables/interpolation/
// sceneInterpolator.ts), as Grafana's TemplateSrv.replace does on a Scenes dashboard.
// "plugin" is the format function grafana-clickhouse-datasource v4.10.1 passes to replace
// (src/data/CHDatasource.ts:403-415): arrays become 'a','b'; anything else is left as is.
import { sceneInterpolator } from '@grafana/scenes/dist/esm/variables/interpolation/sceneInterpolator.js';
import { SceneObjectBase } from '@grafana/scenes/dist/esm/core/SceneObjectBase.js';
import { SceneVariableSet } from '@grafana/scenes/dist/esm/variables/sets/SceneVariableSet.js';
import { CustomVariable } from '@grafana/scenes/dist/esm/variables/variants/CustomVariable.js';
import { QueryVariable } from '@grafana/scenes/dist/esm/variables/variants/query/QueryVariable.js';

class Dashboard extends SceneObjectBase {}

// CHDatasource.ts:410-415 (v4.10.1), the plugin's `format` passed to getTemplateSrv().replace.
function pluginFormat(value) {
  if (Array.isArray(value)) {
    return `'${value.join("','")}'`;
  }
  return value;
}

function makeVariable(spec) {
  const state = {
    name: spec.name,
    includeAll: Boolean(spec.includeAll),
    allValue: spec.allValue ?? undefined,
    isMulti: Boolean(spec.multi),
    value: '',
    text: '',
    options: [],
  };
  const variable = spec.type === 'custom' ? new CustomVariable(state) : new QueryVariable(state);
  variable.updateValueGivenNewOptions(
    (spec.options ?? []).map((o) => ({ label: String(o.text ?? o.value), value: String(o.value) }))
  );
  if (spec.select !== null && spec.select !== undefined) {
    variable.changeValueTo(spec.select);
  }
  return variable;
}

function interpolate(c) {
  if (c.sql.includes('$__conditionalAll(')) {
    // CHDatasource.ts:258-283 applies it before replace(); it is plugin code, not Scenes'.
    throw new Error('$__conditionalAll is a plugin frontend macro this oracle does not run');
  }
  const dashboard = new Dashboard({
    $variables: new SceneVariableSet({ variables: (c.variables ?? []).map(makeVariable) }),
  });
  const format = c.format === 'plugin' ? pluginFormat : (c.format ?? undefined);
  const out = sceneInterpolator(dashboard, c.sql, undefined, format);
  if (typeof out !== 'string' || out.includes('[stub]')) {
    throw new Error('interpolation reached a stubbed rendering package');
  }
  return out;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let request;
try {
  request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
} catch (e) {
  process.stderr.write(`interpolate: bad request on stdin: ${e.message}\n`);
  process.exit(2);
}
const results = (request.cases ?? []).map((c) => {
  try {
    return { sql: interpolate(c) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify({ results }) + '\n');
