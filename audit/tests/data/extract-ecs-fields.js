// Regenerates ecs_9.4.0_fields.tsv from the npm package @elastic/ecs@9.4.0,
// whose build/commonjs/ecs_flat.js is ECS 9.4.0's ecs_flat.yml as a JS object.
//
//   npm pack @elastic/ecs@9.4.0 && tar xzf elastic-ecs-9.4.0.tgz
//   node extract-ecs-fields.js package/build/commonjs/ecs_flat.js > ecs_9.4.0_fields.tsv
//
// Only the field sets the audit record uses are kept.
'use strict';
const path = require('path');
const { EcsFlat } = require(path.resolve(process.argv[2]));
const sets = ['ecs', 'event', 'file', 'host', 'rule', 'source', 'user'];
const out = [
  '# ECS 9.4.0 field definitions for the field sets modelseal audit records use.',
  '# Extracted from the npm package @elastic/ecs@9.4.0 (build/commonjs/ecs_flat.js),',
  '# Copyright Elasticsearch B.V., Apache License 2.0, by extract-ecs-fields.js.',
  '# field sets: ' + [...new Set(Object.keys(EcsFlat).map((n) => n.split('.')[0]))].sort().join(','),
  '# columns: flat_name <TAB> type <TAB> level <TAB> allowed values (comma-separated, may be empty) <TAB> normalize (array or empty)',
];
for (const name of Object.keys(EcsFlat).sort()) {
  const f = EcsFlat[name];
  const set = name.split('.')[0];
  if (name !== '@timestamp' && !sets.includes(set)) continue;
  const allowed = (f.allowed_values || []).map((v) => v.name).join(',');
  out.push([f.flat_name, f.type, f.level, allowed, (f.normalize || []).join(',')].join('\t'));
}
process.stdout.write(out.join('\n') + '\n');
