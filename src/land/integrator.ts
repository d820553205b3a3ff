import type { Logger } from '../lib/log.js';
import type { IntegrateConfig } from './config.js';
import type { MergeQueue } from './queue.js';
import { WorkingTreeRefusal, type CheckResult, type ScratchRepo } from './scratch.js';
import { firstRedPrefix } from './bisect.js';
import type { Entry, Evidence } from './types.js';

export interface IntegratorOptions {
  queue: MergeQueue;
  scratch: ScratchRepo;
  config: IntegrateConfig;
  target: string;
  logger: Logger;
  /** Called once an entry reached a final status (landed, conflicted, failed_check). */
  onSettled: (entry: Entry) => void;
}

/** Seconds between looks at a blocked queue (target missing, or checked out with uncommitted changes). */
const BLOCKED_RETRY_MS = 2000;

interface Applied {
  entry: Entry;
  commit: string;
}

/**
 * The one integrator of a repository: takes batches off the queue in order, builds one
 * candidate per batch on the target's tip in the scratch clone, runs the check, and moves
 * the target by compare-and-swap. A red batch is bisected over its prefixes; the green
 * part lands, the culprit is marked failed_check, the rest go back to the front of the
 * queue. When the target moved meanwhile, everything goes back and starts again from the
 * new tip. Stopping mid-test leaves entries `testing`, and the next start re-queues them.
 */
export class Integrator {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the queue is not moving right now, for GET /merge-queue. */
  blocked: string | null = null;
  /**
   * A checked-out target's working tree refused the last landing (e.g. an untracked file the
   * landed work would overwrite): the queue waits until that tree changes instead of testing
   * the same candidate again every few seconds.
   */
  private refusal: { trees: string[]; state: string; why: string } | undefined;

  constructor(private readonly o: IntegratorOptions) {}

  /** Look at the queue now (idempotent; a running pass picks new entries up). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.again) this.kick();
    });
  }

  /** Stop after the current step; a running check is killed and its entries stay `testing` for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.abort.abort();
    await this.running;
  }

  /** Resolves when the integrator has nothing left to do (tests and benches wait on it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    this.again = false;
    while (!this.stopped) {
      if (this.o.queue.store.activeCount() === 0) return;
      // Look before taking: a paused queue must not churn its entries' states every retry.
      const why = await this.whyBlocked().catch((err: Error) => `integrator error: ${err.message}`);
      if (why) return this.block(why);
      this.blocked = null;
      const batch = this.o.queue.takeBatch(this.o.config.batch);
      if (batch.length === 0) return;
      try {
        await this.integrate(batch);
      } catch (err) {
        if (this.stopped) return;
        // A git failure is not the entries' fault: put them back and look again shortly.
        const why = err instanceof WorkingTreeRefusal ? (this.refusal?.why ?? err.message) : `integrator error: ${(err as Error).message}`;
        this.requeue(batch, why);
        this.block(why);
        return;
      }
      if (this.blocked) return;
    }
  }

  private block(why: string): void {
    if (this.blocked !== why) this.o.logger.warn({ target: this.o.target }, `merge queue paused: ${why}`);
    this.blocked = why;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), BLOCKED_RETRY_MS);
    this.retryTimer.unref();
  }

  private requeue(entries: Entry[], reason: string): void {
    for (const e of entries) if (this.o.queue.isTesting(e.id)) this.o.queue.transition(e, 'queued', {}, { reason });
  }

  private settle(e: Entry, status: 'landed' | 'conflicted' | 'failed_check', patch: { landed_commit?: string; evidence?: Evidence; error?: string }): void {
    if (!this.o.queue.isTesting(e.id)) return;
    this.o.queue.transition(e, status, patch);
    this.o.onSettled(this.o.queue.get(e.id));
  }

  /**
   * Why the queue cannot move now, or null: the target is missing, or it is checked out in a
   * working tree with uncommitted changes (landing updates a checked-out target's working
   * tree, which it may only do when nothing there would be lost).
   */
  private async whyBlocked(): Promise<string | null> {
    const { scratch, target } = this.o;
    if (!(await scratch.tipOf(target))) return `target branch '${target}' does not exist in the repository`;
    const trees = await scratch.checkedOutAt(target);
    if (this.refusal) {
      if (trees.join('\n') === this.refusal.trees.join('\n') && (await this.stateOf(trees)) === this.refusal.state) return this.refusal.why;
      this.refusal = undefined;
    }
    for (const tree of trees) {
      const dirty = await scratch.dirtyFiles(tree);
      if (dirty.length === 0) continue;
      const shown = dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? ` and ${dirty.length - 5} more` : '');
      return (
        `target branch '${target}' is checked out in ${tree} with uncommitted changes (${shown}); landing would have to update that working tree. ` +
        `Commit or stash them, switch that working tree to another branch, or set integrate.target, and the queue continues`
      );
    }
    return null;
  }

  private async stateOf(trees: string[]): Promise<string> {
    return (await Promise.all(trees.map((t) => this.o.scratch.treeState(t)))).join('\0');
  }

  private async integrate(batch: Entry[]): Promise<void> {
    const { scratch, target, config } = this.o;
    const tip = await scratch.tipOf(target);
    if (!tip) {
      this.requeue(batch, `target branch '${target}' does not exist`);
      return;
    }

    await scratch.startAt(tip);
    const applied: Applied[] = [];
    // Entries that do not apply on the tip itself: real conflicts with the landed target.
    const conflicts: { entry: Entry; evidence: Evidence }[] = [];
    // Entries that do not apply on top of earlier entries of this batch: whether they conflict
    // with what lands is known only on the tip the batch produces, so they are tried again there.
    const behind: Entry[] = [];
    let onto = tip;
    for (const e of batch) {
      const r = await scratch.apply(onto, e.head, config.strategy, `Land ${e.branch} (job ${e.job_id})`);
      if (r.ok) {
        applied.push({ entry: e, commit: r.commit });
        onto = r.commit;
      } else if (onto === tip) conflicts.push({ entry: e, evidence: r.evidence });
      else behind.push(e);
    }
    if (this.stopped) return;
    // A follow-up starts from the target's tip: settle conflicts only once the batch's good
    // part has landed (or nothing of it will), so the follow-up builds on top of that work.
    const finish = (landed: boolean): void => {
      if (behind.length) {
        const earlier = applied.map((a) => a.entry.id).join(', ');
        this.requeue(behind, `does not apply on top of ${earlier} from the same batch; retrying on the tip they produce`);
      }
      if (landed) for (const c of conflicts) this.settle(c.entry, 'conflicted', { evidence: c.evidence });
      else this.requeue(conflicts.map((c) => c.entry), 'the batch did not land; retrying on the new tip');
    };
    if (applied.length === 0) return finish(true);

    const last = applied.length - 1;
    const red = await this.check(0, applied[last]!.commit);
    if (this.stopped) return;
    if (!red || red.ok) return finish(await this.land(applied, tip));

    const { culprit, results } =
      applied.length === 1
        ? { culprit: 0, results: new Map([[0, red]]) }
        : await firstRedPrefix(applied.length, red, async (i, slot) => (await this.check(slot, applied[i]!.commit)) ?? { ok: true, exit_code: 0, timed_out: false, output_tail: '' }, config.parallel_checks);
    if (this.stopped) return;
    const good = applied.slice(0, culprit);
    if (good.length && !(await this.land(good, tip))) {
      // The target moved (or an entry was removed): everything in this batch starts again from the tip.
      this.requeue(applied.map((a) => a.entry), "the batch's green part did not land; retesting on the target's tip");
      return finish(false);
    }
    const failing = results.get(culprit)!;
    const bad = applied[culprit]!;
    this.settle(bad.entry, 'failed_check', {
      evidence: { kind: 'check', onto: good.at(-1)?.commit ?? tip, exit_code: failing.exit_code, timed_out: failing.timed_out, output_tail: failing.output_tail },
    });
    this.requeue(applied.slice(culprit + 1).map((a) => a.entry), `batch was red because of ${bad.entry.id}; retesting without it`);
    finish(true);
  }

  /** Undefined when no check is configured (everything is green). */
  private async check(slot: number, commit: string): Promise<CheckResult | undefined> {
    const { check, check_timeout } = this.o.config;
    if (check === undefined) return undefined;
    return this.o.scratch.check(slot, commit, check, check_timeout * 1000, this.abort.signal);
  }

  /**
   * Publish the chain's last commit by CAS; mark each entry landed at its own commit. False
   * when nothing landed (the target moved, or an entry was removed while tested): the chain
   * is back in the queue.
   */
  private async land(chain: Applied[], tip: string): Promise<boolean> {
    const removed = chain.filter((a) => !this.o.queue.isTesting(a.entry.id));
    if (removed.length) {
      // Someone took an entry out while it was tested: what was tested is not what would land.
      this.requeue(chain.map((a) => a.entry), `${removed.map((a) => a.entry.id).join(', ')} was removed while tested; retesting without it`);
      return false;
    }
    const { scratch, target } = this.o;
    const commit = chain.at(-1)!.commit;
    const trees = await scratch.checkedOutAt(target);
    let moved: boolean;
    try {
      moved = !(trees.length ? await scratch.publishCheckedOut(target, commit, tip) : await scratch.publish(target, commit, tip));
    } catch (err) {
      if (err instanceof WorkingTreeRefusal) {
        const why =
          `target branch '${target}' is checked out in ${trees.join(', ')}, whose working tree refused the landed work (${err.message}); ` +
          `the queue tries again once that working tree changes (or set integrate.target)`;
        this.refusal = { trees, state: await this.stateOf(trees), why };
      }
      throw err;
    }
    if (moved) {
      this.requeue(chain.map((a) => a.entry), 'the target moved while testing; retrying on its new tip');
      return false;
    }
    for (const a of chain) this.settle(a.entry, 'landed', { landed_commit: a.commit });
    return true;
  }
}
