// Reads a V8 heap snapshot and adds up the objects allocated since an earlier snapshot, by type:
// objects by constructor, strings by kind (flat, concatenated "rope", sliced) and shape, numbers.
// Only the "nodes" and "strings" sections are read (without JSON.parse of the whole file, which
// for 100 000 jobs would pass V8's string limit).
import { readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

/** Writes a snapshot to the temp directory and returns its parsed nodes. */
export function takeSnapshot() {
  const file = writeHeapSnapshot(join(tmpdir(), `bench-queue-${process.pid}-${Date.now()}.heapsnapshot`));
  try {
    return parse(readFileSync(file));
  } finally {
    unlinkSync(file);
  }
}

function parse(buffer) {
  const text = (from, to) => buffer.toString('utf8', from, to);
  const metaStart = buffer.indexOf('"meta":') + '"meta":'.length;
  const meta = JSON.parse(text(metaStart, buffer.indexOf(',"node_count"')));
  const nodes = readNumbers(buffer, buffer.indexOf('"nodes":[') + '"nodes":['.length);
  // The strings section comes last: it ends at the file's last bracket.
  const stringsStart = buffer.indexOf('"strings":[') + '"strings":'.length;
  const strings = JSON.parse(text(stringsStart, buffer.lastIndexOf(']') + 1));
  return { meta, nodes, strings };
}

function readNumbers(buffer, from) {
  const out = [];
  let value = 0;
  let inNumber = false;
  for (let i = from; i < buffer.length; i++) {
    const c = buffer[i];
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) out.push(value);
      value = 0;
      inNumber = false;
      if (c === 93) break; // ]
    }
  }
  return out;
}

/** Self sizes by group: objects by constructor, strings by kind and shape, boxed numbers. */
export function groupBySize({ meta, nodes, strings }) {
  const fields = meta.node_fields;
  const width = fields.length;
  const types = meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = strings[nodes[i + nameAt]] ?? '';
    let key;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      // One row per string shape: digits and words folded, so 100 000 texts of one template make one row.
      const shape = name
        .replace(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/g, '<uuid>')
        .replace(/^[\w-]{16,24}$/, '<id>')
        .replace(/\d+/g, '#')
        .replace(/[\u0400-\u04ff]+/g, 'ж')
        .slice(0, 40);
      const wide = isOneByte(name) ? 'one-byte' : 'two-byte';
      key = `${type} ${type === 'string' ? `${wide} ` : ''}${JSON.stringify(shape)}`;
    } else if (type === 'number') {
      key = 'heap number (a boxed double)';
    } else {
      // Objects of one constructor differ by their fields: their size tells the kinds apart.
      key = `${type} ${name.slice(0, 60)} (${nodes[i + sizeAt]} B)`;
    }
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/** What `after` holds beyond `before`, per job, largest first. */
export function diffPerJob(after, before, jobs) {
  const rows = [];
  let total = 0;
  for (const [key, group] of after) {
    const base = before.get(key) ?? { count: 0, bytes: 0 };
    const bytes = group.bytes - base.bytes;
    total += bytes;
    rows.push({ key, bytes, count: group.count - base.count });
  }
  rows.sort((a, b) => b.bytes - a.bytes);
  const lines = rows
    .filter((row) => Math.abs(row.bytes / jobs) >= 1)
    .map(
      (row) =>
        `  ${(row.bytes / jobs).toFixed(1).padStart(7)} B/job ${String(row.count).padStart(9)} × ${String(Math.round(row.bytes / (row.count || 1))).padStart(5)} B  ${row.key}`,
    );
  lines.push(`  ${(total / jobs).toFixed(1).padStart(7)} B/job in all (self sizes)`);
  return lines.join('\n');
}

/** Whether V8 can keep the string at one byte per character (Latin-1 only). */
function isOneByte(text) {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}
