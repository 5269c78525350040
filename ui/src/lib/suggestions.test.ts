import { describe, expect, it } from 'vitest';
import type { Suggestion } from '../bindings/Suggestion';
import { record } from '../test/records';
import { groupSuggestions, runningCommands } from './suggestions';

const s = (source: string, name: string, command = `run ${name}`): Suggestion => ({ source, name, command });

describe('groupSuggestions', () => {
  it('groups by source in a fixed order, keeping the order within a group', () => {
    const groups = groupSuggestions([s('Makefile', 'test'), s('package.json', 'dev'), s('Cargo.toml', 'cli'), s('package.json', 'build'), s('Procfile', 'web'), s('Makefile', 'run')]);
    expect(groups.map((g) => g.source)).toEqual(['package.json', 'Procfile', 'Makefile', 'Cargo.toml']);
    expect(groups[0].items.map((x) => x.name)).toEqual(['dev', 'build']);
    expect(groups[2].items.map((x) => x.name)).toEqual(['test', 'run']);
  });

  it('puts unknown sources last in the order first seen, and leaves out blanks and repeats', () => {
    const groups = groupSuggestions([s('justfile', 'a'), s('deno.json', 'b'), s('Makefile', 'x'), s('Makefile', 'x again', 'run x'), s('Makefile', 'blank', '  ')]);
    expect(groups.map((g) => g.source)).toEqual(['Makefile', 'justfile', 'deno.json']);
    expect(groups[0].items).toEqual([s('Makefile', 'x')]);
  });

  it('is empty for no suggestions', () => {
    expect(groupSuggestions([])).toEqual([]);
  });

  it('knows which commands are running', () => {
    const set = runningCommands([record({ id: 'a', command: 'npm run dev' }), record({ id: 'b', command: 'make test', status: 'stopped' })]);
    expect([...set]).toEqual(['npm run dev']);
  });
});
