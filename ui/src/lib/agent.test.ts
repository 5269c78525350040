import { describe, expect, it } from 'vitest';
import { AGENT_NAME_MAX, agentBadge, agentName } from './agent';

describe('agentName', () => {
  it('gives the well-known agents their product name', () => {
    const cases: Array<[string, string]> = [
      ['claude-code', 'Claude Code'],
      ['Claude-Code', 'Claude Code'],
      ['codex-mcp-client', 'Codex'],
      ['codex', 'Codex'],
      ['Cursor', 'Cursor'],
      ['cursor-vscode', 'Cursor'],
      ['Visual Studio Code', 'VS Code'],
      ['Visual Studio Code - Insiders', 'VS Code'],
      ['vscode', 'VS Code'],
    ];
    for (const [client, name] of cases) expect(agentName(client), client).toBe(name);
  });

  it('keeps other names, cleaned and cut to a badge', () => {
    expect(agentName('zed')).toBe('zed');
    expect(agentName('  my\tagent\u202e\n  2 ')).toBe('my agent 2');
    expect(agentName('a-very-long-agent-client-name-indeed')).toBe('a-very-long-agent-clien…');
    expect(Array.from(agentName('x'.repeat(200))).length).toBe(AGENT_NAME_MAX);
    // Characters, not UTF-16 units: 24 of them fit, a 25th is cut.
    expect(agentName('😀'.repeat(24))).toBe('😀'.repeat(24));
    expect(agentName('😀'.repeat(25))).toBe(`${'😀'.repeat(23)}…`);
    // Markup is a name like any other: it is rendered as text.
    expect(agentName('<b>bold</b>')).toBe('<b>bold</b>');
  });

  it('calls an agent without a name "Agent"', () => {
    expect(agentName(undefined)).toBe('Agent');
    expect(agentName('')).toBe('Agent');
    expect(agentName(' \u200f ')).toBe('Agent');
  });
});

describe('agentBadge', () => {
  it('is there only for processes an agent started', () => {
    expect(agentBadge(null)).toBeNull();
    expect(agentBadge({ kind: 'app' })).toBeNull();
    expect(agentBadge({ kind: 'cli' })).toBeNull();
  });

  it('names the agent and says where its raw name came from', () => {
    expect(agentBadge({ kind: 'agent', client: 'claude-code' })).toEqual({
      name: 'Claude Code',
      tooltip: 'Started by the coding agent claude-code through procdeck mcp',
    });
    expect(agentBadge({ kind: 'agent' })).toEqual({ name: 'Agent', tooltip: 'Started by a coding agent through procdeck mcp' });
    const long = 'n'.repeat(500);
    expect(agentBadge({ kind: 'agent', client: long })?.tooltip).toBe(`Started by the coding agent ${'n'.repeat(63)}… through procdeck mcp`);
  });
});
