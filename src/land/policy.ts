import type { IntegrateConfig } from './config.js';
import type { Entry, Evidence } from './types.js';

/** Marks the start of what Colony appends to a follow-up's prompt; earlier evidence is cut there. */
export const FOLLOW_UP_MARKER = '\n\n---\nColony merge queue:';

/** Lines of evidence a prompt or task carries at most. */
const EVIDENCE_CHARS = 12_000;

export type FailureAction =
  | { kind: 'none' }
  | { kind: 'task'; description: string }
  | { kind: 'job'; prompt: string; attempt: number };

/** The job's own request, without what earlier follow-ups appended. */
export function originalPrompt(prompt: string): string {
  const i = prompt.indexOf(FOLLOW_UP_MARKER);
  return i < 0 ? prompt : prompt.slice(0, i);
}

export function describeEvidence(e: Evidence): string {
  const lines: string[] = [];
  if (e.kind === 'conflict') {
    lines.push(`It conflicts with work that landed first${e.files?.length ? ` in: ${e.files.join(', ')}` : ''}.`);
    if (e.hunks) lines.push('', 'The conflict as git shows it:', '```', e.hunks, '```');
  } else {
    lines.push(e.timed_out ? 'The check timed out.' : `The check failed (exit code ${e.exit_code}).`);
    if (e.output_tail) lines.push('', 'Last lines of the check:', '```', e.output_tail.trimEnd(), '```');
  }
  const text = lines.join('\n');
  return text.length > EVIDENCE_CHARS ? text.slice(0, EVIDENCE_CHARS) + '\n…(truncated)' : text;
}

/**
 * What `integrate.on_failure` makes of a conflicted or red entry: nothing, a task anyone
 * can claim, or a follow-up job for the same agent that starts from the target's new tip
 * with the evidence in its prompt (while attempts remain).
 */
export function failureAction(config: IntegrateConfig, entry: Entry, jobPrompt: string): FailureAction {
  if (!entry.evidence || config.on_failure === 'none') return { kind: 'none' };
  const what = `job ${entry.job_id} (branch ${entry.branch}) could not land on '${entry.target}'.`;
  const evidence = describeEvidence(entry.evidence);
  if (config.on_failure === 'task') {
    return { kind: 'task', description: `Land the work of ${what}\n${evidence}\n\nThe original request:\n${originalPrompt(jobPrompt)}` };
  }
  if (entry.attempt >= config.max_attempts) return { kind: 'none' };
  const attempt = entry.attempt + 1;
  const prompt =
    originalPrompt(jobPrompt) +
    FOLLOW_UP_MARKER +
    ` the previous attempt, ${what}\n${evidence}\n\n` +
    `This job starts from the current tip of '${entry.target}', which already has the work that landed first. ` +
    `Do the original request again on top of it, keeping what landed. (Attempt ${attempt} of ${config.max_attempts}.)`;
  return { kind: 'job', prompt, attempt };
}
