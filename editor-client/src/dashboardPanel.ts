// The coach's dashboard as a webview: answers waiting for review first (each a
// link that opens its thread), then blockers, one row per student and the
// cohort figures, times relative and in local time. Rendered here from
// `colearner/dashboard` and `colearner/threads`; the page runs no script and
// loads nothing (strict CSP): its links are command URIs, allowed for the
// one command that opens a thread.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { visible } from './display';
import { Blocker, Dashboard, ExerciseThread, Methods, StudentRow } from './protocol';
import { CommentThreads } from './threads';
import { countsText, localTime, relativeTime } from './viewModel';

const OPEN_THREAD_COMMAND = 'colearner.ui.openThread';

export class DashboardPanel implements vscode.Disposable {
    private panel: vscode.WebviewPanel | undefined;

    constructor(
        private readonly client: ColearnerClient,
        private readonly threads: CommentThreads,
    ) {}

    async show(): Promise<void> {
        if (this.panel) {
            this.panel.reveal();
        } else {
            this.panel = vscode.window.createWebviewPanel('colearner.dashboard', 'Colearner Dashboard', vscode.ViewColumn.Active, {
                enableScripts: false,
                enableCommandUris: [OPEN_THREAD_COMMAND],
                localResourceRoots: [],
            });
            this.panel.onDidDispose(() => (this.panel = undefined));
        }
        await this.refresh();
    }

    /** Renders again if the panel is open. */
    async refresh(): Promise<void> {
        const panel = this.panel;
        if (!panel) {
            return;
        }
        let body: string;
        try {
            body = dashboardBody(await this.client.request<Dashboard>(Methods.dashboard), this.threads.data?.threads ?? []);
        } catch (error) {
            body = `<p class="error">colearner: ${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`;
        }
        if (panel === this.panel) {
            panel.webview.html = page(body);
        }
    }

    dispose(): void {
        this.panel?.dispose();
    }
}

function page(body: string): string {
    const nonce = randomBytes(16).toString('base64');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Colearner Dashboard</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--vscode-panel-border); vertical-align: top; }
th { color: var(--vscode-descriptionForeground); font-weight: 600; }
th.num { text-align: right; }
h2 { font-size: 1.1em; margin-top: 1.4em; }
a.thread { color: var(--vscode-textLink-foreground); }
li.review { margin-bottom: 0.6em; }
.excerpt { white-space: pre-wrap; margin: 0.2em 0 0 0; padding-left: 0.6em; border-left: 2px solid var(--vscode-panel-border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul { margin: 0; padding-left: 1.2em; }
.muted { color: var(--vscode-descriptionForeground); }
.error { color: var(--vscode-errorForeground); }
.blocked { color: var(--vscode-editorWarning-foreground); }
</style>
</head>
<body>
${body}
</body>
</html>`;
}

/** The page's content for one `colearner/dashboard` answer and the coach's threads. */
function dashboardBody(dashboard: Dashboard, threads: ExerciseThread[]): string {
    const cohort = dashboard.cohort;
    const stages = Object.entries(cohort.per_stage)
        .map(([stage, count]) => `${escapeHtml(stage)} ${count}`)
        .join(' · ');
    const facts = [
        cohort.students !== undefined ? `${cohort.students} student${cohort.students === 1 ? '' : 's'}` : '',
        cohort.open_sessions !== undefined ? `${cohort.open_sessions} open session${cohort.open_sessions === 1 ? '' : 's'}` : '',
        `completion ${percent(cohort.completion_rate)}`,
        `median time to pass ${duration(cohort.median_time_to_pass_s)}`,
        stages ? `stages: ${stages}` : '',
        cohort.quarantined ? `quarantine: ${cohort.quarantined} message${cohort.quarantined === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    const rows = dashboard.students.map((row) => studentRow(row, threads)).join('\n');
    return `<h1>Colearner dashboard</h1>
<p class="muted" id="cohort">${dashboard.coach ? `Coach ${escapeHtml(dashboard.coach)} · ` : ''}${facts.join(' · ')} · updated ${when(dashboard.generated_at)}</p>
${reviewSection(threads)}
${blockerSection(dashboard.blockers ?? [], threads)}
<h2>Students</h2>
<table id="students">
<thead><tr><th>Student</th><th>Stage</th><th class="num">Completion</th><th>Blockers</th><th>Exercises</th><th>Last activity</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6" class="muted">No students yet.</td></tr>'}
</tbody>
</table>
${openSection(threads)}`;
}

/** A link that opens the exercise's thread (a command URI; the webview allows only this command). */
function threadLink(t: { exercise_id: string }, text: string): string {
    const args = encodeURIComponent(JSON.stringify([{ exercise_id: t.exercise_id }]));
    return `<a class="thread" href="command:${OPEN_THREAD_COMMAND}?${args}" data-exercise="${escapeHtml(t.exercise_id)}">${text}</a>`;
}

function exerciseName(t: ExerciseThread): string {
    return `${escapeHtml(t.topic)} <span class="muted">${escapeHtml(t.short_id)}</span>`;
}

/** Relative time with the local time beside it: "5 min ago (2026-01-02 10:00)". */
function when(ts: string | null | undefined): string {
    if (!ts) {
        return '—';
    }
    const relative = relativeTime(ts);
    return relative ? `${escapeHtml(relative)} <span class="muted">(${escapeHtml(localTime(ts))})</span>` : escapeHtml(ts);
}

function reviewSection(threads: ExerciseThread[]): string {
    const waiting = threads.filter((t) => t.turn === 'coach');
    const items = waiting.map((t) => {
        const answer = [...t.entries].reverse().find((e) => e.kind === 'answer' || e.kind === 'evidence');
        const excerpt = answer?.text ? `<div class="excerpt">${escapeHtml(answer.text.slice(0, 300))}${answer.text.length > 300 ? '…' : ''}</div>` : '';
        const evidence = answer?.evidence_summary ? `<div class="muted">Evidence: ${escapeHtml(answer.evidence_summary)}</div>` : '';
        return `<li class="review">${threadLink(t, exerciseName(t))} · ${escapeHtml(t.student)} · answered ${when(answer?.ts)}${excerpt}${evidence}</li>`;
    });
    return `<h2 id="review-heading">Answers waiting for your review (${waiting.length})</h2>
${items.length ? `<ul id="review">${items.join('')}</ul>` : '<p class="muted" id="review">Nothing waits for your review.</p>'}`;
}

function blockerSection(blockers: Blocker[], threads: ExerciseThread[]): string {
    if (blockers.length === 0) {
        return '<h2>Blockers</h2><p class="muted">No blockers.</p>';
    }
    const byId = new Map(threads.map((t) => [t.exercise_id, t]));
    const rows = blockers.slice(0, 30).map((b) => {
        const t = b.exercise_id ? byId.get(b.exercise_id) : undefined;
        return `<tr><td>${escapeHtml(b.student ?? '—')}</td><td>${escapeHtml(b.kind)}</td><td>${escapeHtml(b.reason)}${t ? ` · ${threadLink(t, exerciseName(t))}` : ''}</td><td>${when(b.since)}</td></tr>`;
    });
    const more = blockers.length > 30 ? `<p class="muted">… and ${blockers.length - 30} more.</p>` : '';
    return `<h2>Blockers (${blockers.length}, oldest first)</h2>
<table id="blockers"><thead><tr><th>Student</th><th>Kind</th><th>Reason</th><th>Since</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

function openSection(threads: ExerciseThread[]): string {
    const open = threads.filter((t) => t.state !== 'passed' && t.turn !== 'coach');
    if (open.length === 0) {
        return '';
    }
    const items = open.slice(0, 100).map((t) => {
        const last = t.entries[t.entries.length - 1];
        return `<li>${threadLink(t, exerciseName(t))} · ${escapeHtml(t.student)} · ${escapeHtml(t.state)} · last ${when(last?.ts)}</li>`;
    });
    return `<h2>Other open exercises (${open.length})</h2><ul id="open">${items.join('')}</ul>`;
}

function studentRow(row: StudentRow, threads: ExerciseThread[]): string {
    const c = row.counts;
    const counts = `${c.passed} passed of ${c.assigned} assigned, ${c.revise} to revise`;
    const mine = threads.filter((t) => t.student === row.student);
    const byState: Record<string, number> = {};
    for (const t of mine) {
        byState[t.state] = (byState[t.state] ?? 0) + 1;
    }
    return `<tr data-student="${escapeHtml(row.student)}" data-session="${escapeHtml(row.session_id ?? '')}">
<td class="student">${escapeHtml(row.student)}${row.on_roster === false ? ' <span class="muted">(off the roster)</span>' : ''}</td>
<td class="stage">${escapeHtml(row.stage)}</td>
<td class="num completion" title="${escapeHtml(counts)}">${percent(row.completion_rate)}</td>
<td class="blockers">${blockerList(row.blockers)}</td>
<td class="exercises">${escapeHtml(countsText('coach', byState) || `${c.passed}/${c.assigned} passed`)}</td>
<td class="activity">${when(row.last_activity)}</td>
</tr>`;
}

function blockerList(blockers: Blocker[]): string {
    if (blockers.length === 0) {
        return '<span class="muted">none</span>';
    }
    const items = blockers.map(
        (b) => `<li class="blocked">${escapeHtml(b.kind)}: ${escapeHtml(b.reason)}${b.since ? ` <span class="muted">since ${when(b.since)}</span>` : ''}</li>`,
    );
    return `<ul>${items.join('')}</ul>`;
}

function percent(rate: number): string {
    return `${Math.round(rate * 100)}%`;
}

function duration(seconds: number | null): string {
    if (seconds === null || seconds === undefined) {
        return '—';
    }
    if (seconds < 120) {
        return `${Math.round(seconds)} s`;
    }
    if (seconds < 7200) {
        return `${Math.round(seconds / 60)} min`;
    }
    return `${(seconds / 3600).toFixed(1)} h`;
}

/** Wire text for the page: shown visibly (see display.ts), then escaped as HTML. */
function escapeHtml(text: string): string {
    return visible(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
