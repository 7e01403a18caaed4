// The coach's dashboard as a webview: one row per student (stage, completion,
// blockers) and the cohort figures. Rendered here from `colearner/dashboard`;
// the page runs no script and loads nothing (strict CSP).

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { visible } from './display';
import { Blocker, Dashboard, Methods, StudentRow } from './protocol';

export class DashboardPanel implements vscode.Disposable {
    private panel: vscode.WebviewPanel | undefined;

    constructor(private readonly client: ColearnerClient) {}

    async show(): Promise<void> {
        if (this.panel) {
            this.panel.reveal();
        } else {
            this.panel = vscode.window.createWebviewPanel('colearner.dashboard', 'Colearner Dashboard', vscode.ViewColumn.Active, {
                enableScripts: false,
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
            body = dashboardBody(await this.client.request<Dashboard>(Methods.dashboard));
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

/** The page's content for one `colearner/dashboard` answer. */
function dashboardBody(dashboard: Dashboard): string {
    const cohort = dashboard.cohort;
    const stages = Object.entries(cohort.per_stage)
        .map(([stage, count]) => `${escapeHtml(stage)} ${count}`)
        .join(' · ');
    const rows = dashboard.students.map(studentRow).join('\n');
    return `<h1>Colearner dashboard</h1>
<p class="muted" id="cohort">Cohort completion ${percent(cohort.completion_rate)} · median time to pass ${duration(cohort.median_time_to_pass_s)}${stages ? ` · ${stages}` : ''} · generated ${escapeHtml(dashboard.generated_at)}</p>
<table id="students">
<thead><tr><th>Student</th><th>Stage</th><th>Completion</th><th>Blockers</th><th>Last activity</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5" class="muted">No students yet.</td></tr>'}
</tbody>
</table>`;
}

function studentRow(row: StudentRow): string {
    const c = row.counts;
    const counts = `${c.passed} passed, ${c.responded} responded, ${c.acknowledged} acknowledged, ${c.assigned} assigned, ${c.revise} to revise`;
    return `<tr data-student="${escapeHtml(row.student)}" data-session="${escapeHtml(row.session_id ?? '')}">
<td class="student">${escapeHtml(row.student)}</td>
<td class="stage">${escapeHtml(row.stage)}</td>
<td class="num completion" title="${escapeHtml(counts)}">${percent(row.completion_rate)}</td>
<td class="blockers">${blockerList(row.blockers)}</td>
<td class="muted">${escapeHtml(row.last_activity ?? '—')}</td>
</tr>`;
}

function blockerList(blockers: Blocker[]): string {
    if (blockers.length === 0) {
        return '<span class="muted">none</span>';
    }
    const items = blockers.map(
        (b) => `<li class="blocked">${escapeHtml(b.kind)}: ${escapeHtml(b.reason)}${b.since ? ` <span class="muted">since ${escapeHtml(b.since)}</span>` : ''}</li>`,
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
