// The "Colearner" activity-bar tree: students → sessions → exercises by
// state, each exercise once (a student sees their own sessions, with the
// plan). The grouping and counts are viewModel.ts's; the exercises come from
// `colearner/threads`, the sessions from `colearner/inbox` (student) or
// `colearner/dashboard` (coach). The view's badge counts what waits for you.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine, visible } from './display';
import { Blocker, Dashboard, ExerciseThread, Inbox, InboxSession, Methods, PlanStep, Role, StudentRow } from './protocol';
import { CommentThreads } from './threads';
import { countsText, groupTree, nextLabel, SessionGroup, SessionInfo, StateGroup, StudentGroup, waitingText, waitsForYou } from './viewModel';

export const OPEN_ANCHOR_COMMAND = 'colearner.ui.openAnchor';
export const OPEN_THREAD_COMMAND = 'colearner.ui.openThread';
export const TREE_VIEW_ID = 'colearner.session';

// A label longer than this is cut (the tooltip has the whole text).
const LABEL_CHARS = 120;

type Node =
    | { kind: 'student'; group: StudentGroup; row?: StudentRow }
    | { kind: 'session'; group: SessionGroup; session?: InboxSession; student?: string }
    | { kind: 'plan'; steps: PlanStep[]; goals: string[] }
    | { kind: 'step'; step: PlanStep }
    | { kind: 'state'; group: StateGroup; session_id: string }
    | { kind: 'exercise'; exercise_id: string; thread: ExerciseThread }
    | { kind: 'text'; label: string; icon: string; tooltip?: string };

export class SessionTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
    private readonly changes = new vscode.EventEmitter<Node | undefined>();
    readonly onDidChangeTreeData = this.changes.event;
    private readonly view: vscode.TreeView<Node>;

    constructor(
        private readonly client: ColearnerClient,
        private readonly threads: CommentThreads,
    ) {
        this.view = vscode.window.createTreeView(TREE_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
        // The badge is set whenever the threads change, whether or not the view has been opened.
        this.subscription = threads.onDidChange((data) => this.showBadge(data?.role, data?.threads ?? []));
    }

    private readonly subscription: vscode.Disposable;

    private showBadge(role: Role | undefined, exercises: ExerciseThread[]): void {
        const waiting = role ? exercises.filter((t) => waitsForYou(role, t)).length : 0;
        const tooltip = role ? waitingText(role, waiting) : undefined;
        this.view.badge = tooltip ? { value: waiting, tooltip } : undefined;
    }

    refresh(): void {
        this.changes.fire(undefined);
    }

    dispose(): void {
        this.subscription.dispose();
        this.view.dispose();
        this.changes.dispose();
    }

    getTreeItem(node: Node): vscode.TreeItem {
        return treeItem(node, this.client.status?.role ?? 'student');
    }

    async getChildren(node?: Node): Promise<Node[]> {
        if (node) {
            return childrenOf(node, this.threads);
        }
        return this.roots();
    }

    private async roots(): Promise<Node[]> {
        const status = this.client.status;
        if (!status) {
            this.view.message = this.client.state.kind === 'notSetUp'
                ? 'This folder has no .colearner/agent.yaml: run `colearner init` here.'
                : 'Waiting for the colearner language server…';
            return [];
        }
        const role = status.role;
        const exercises = this.threads.data?.threads ?? [];
        this.showBadge(role, exercises);
        try {
            let roots: Node[];
            if (role === 'student') {
                const sessions = (await this.client.request<Inbox>(Methods.inbox)).sessions;
                const infos: SessionInfo[] = sessions.map((s) => ({ session_id: s.session_id, student: status.identity, stage: s.stage }));
                const students = groupTree(role, infos, exercises.map((t) => ({ ...t, student: status.identity })));
                const byId = new Map(sessions.map((s) => [s.session_id, s]));
                roots = students.flatMap((g) => g.sessions.map((group): Node => ({ kind: 'session', group, session: byId.get(group.session_id) })));
            } else {
                const rows = (await this.client.request<Dashboard>(Methods.dashboard)).students;
                const infos: SessionInfo[] = rows.flatMap((r) =>
                    r.sessions?.length
                        ? r.sessions.map((s) => ({ session_id: s.session_id, student: r.student, stage: s.stage }))
                        : r.session_id
                          ? [{ session_id: r.session_id, student: r.student, stage: r.stage }]
                          : [],
                );
                const groups = new Map(groupTree(role, infos, exercises).map((g) => [g.student, g]));
                roots = rows.map((row): Node => ({
                    kind: 'student',
                    row,
                    group: groups.get(row.student) ?? { student: row.student, sessions: [], total: 0, counts: {} },
                }));
                for (const [student, group] of groups) {
                    if (!rows.some((r) => r.student === student)) {
                        roots.push({ kind: 'student', group });
                    }
                }
            }
            this.view.message = roots.length === 0 ? emptyMessage(role) : undefined;
            return roots;
        } catch (error) {
            this.view.message = `colearner: ${error instanceof Error ? error.message : String(error)}`;
            return [];
        }
    }
}

function emptyMessage(role: string): string {
    return role === 'student' ? 'No coaching session yet: your coach starts one.' : 'No students yet: `colearner session start --student NAME`.';
}

function childrenOf(node: Node, threads: CommentThreads): Node[] {
    switch (node.kind) {
        case 'student':
            return [
                ...node.group.sessions.map((group): Node => ({ kind: 'session', group, student: node.group.student })),
                ...(node.row?.blockers ?? []).map(blockerNode),
            ];
        case 'session': {
            const plan = node.session?.plan;
            const planNode: Node[] = plan && (plan.steps.length || plan.goals.length) ? [{ kind: 'plan', steps: plan.steps, goals: plan.goals }] : [];
            return [...planNode, ...node.group.groups.map((group): Node => ({ kind: 'state', group, session_id: node.group.session_id }))];
        }
        case 'plan':
            return [
                ...node.goals.map((goal): Node => ({ kind: 'text', label: oneLine(goal, LABEL_CHARS), icon: 'target', tooltip: visible(goal) })),
                ...node.steps.map((step): Node => ({ kind: 'step', step })),
            ];
        case 'state':
            return node.group.exercises.flatMap((row): Node[] => {
                const thread = threads.exercise(row.exercise_id);
                return thread ? [{ kind: 'exercise', exercise_id: row.exercise_id, thread }] : [];
            });
        default:
            return [];
    }
}

function blockerNode(blocker: Blocker): Node {
    return {
        kind: 'text',
        icon: 'warning',
        label: oneLine(`${blocker.kind}: ${blocker.reason}`, LABEL_CHARS),
        tooltip: blocker.since ? `since ${oneLine(blocker.since)}` : undefined,
    };
}

function treeItem(node: Node, role: Role): vscode.TreeItem {
    const { Collapsed, Expanded, None } = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
        case 'student': {
            const { group, row } = node;
            const item = new vscode.TreeItem(oneLine(group.student, LABEL_CHARS), Expanded);
            const parts = [countsText(role, group.counts) || 'no exercises'];
            if (row) {
                parts.push(`${Math.round(row.completion_rate * 100)}% done`);
                if (row.blockers.length) parts.push(`${row.blockers.length} blocker(s)`);
            }
            item.description = parts.join(' · ');
            item.tooltip = `${group.total} exercise${group.total === 1 ? '' : 's'}${row?.last_activity ? ` · last activity ${oneLine(row.last_activity)}` : ''}`;
            item.iconPath = new vscode.ThemeIcon(row?.blockers.length ? 'warning' : 'person');
            item.id = `student:${group.student}`;
            return item;
        }
        case 'session': {
            const g = node.group;
            const item = new vscode.TreeItem(`Session · ${oneLine(g.stage || 'unknown stage', 40)}`, Expanded);
            const coach = node.session?.coach ? ` · coach ${oneLine(node.session.coach, 40)}` : '';
            item.description = `${countsText(role, g.counts) || 'no exercises yet'}${coach}`;
            item.tooltip = `Session ${oneLine(g.session_id.slice(0, 8))} · ${g.total} exercise${g.total === 1 ? '' : 's'}`;
            item.iconPath = new vscode.ThemeIcon('mortar-board');
            item.id = `session:${g.session_id}`;
            return item;
        }
        case 'plan': {
            const done = node.steps.filter((step) => step.status === 'done').length;
            const item = new vscode.TreeItem('Plan', Collapsed);
            item.description = `${done}/${node.steps.length} steps done`;
            item.iconPath = new vscode.ThemeIcon('list-ordered');
            return item;
        }
        case 'step': {
            const item = new vscode.TreeItem(oneLine(node.step.topic, LABEL_CHARS), None);
            item.description = oneLine(node.step.status);
            item.tooltip = oneLine(node.step.id);
            item.iconPath = new vscode.ThemeIcon(
                node.step.status === 'done' ? 'pass' : node.step.status === 'active' ? 'debug-start' : 'circle-outline',
            );
            return item;
        }
        case 'state': {
            const item = new vscode.TreeItem(`${node.group.label} (${node.group.exercises.length})`, node.group.state === 'passed' ? Collapsed : Expanded);
            item.iconPath = new vscode.ThemeIcon(node.group.state === 'passed' ? 'pass' : 'folder');
            item.id = `state:${node.session_id}:${node.group.state}`;
            return item;
        }
        case 'exercise':
            return exerciseItem(node.thread, role);
        case 'text': {
            const item = new vscode.TreeItem(node.label, None);
            item.iconPath = new vscode.ThemeIcon(node.icon);
            item.tooltip = node.tooltip;
            return item;
        }
    }
}

function exerciseItem(t: ExerciseThread, role: Role): vscode.TreeItem {
    const item = new vscode.TreeItem(oneLine(t.topic, LABEL_CHARS), vscode.TreeItemCollapsibleState.None);
    item.id = `exercise:${t.exercise_id}`;
    const yours = waitsForYou(role, t);
    const next = yours ? nextLabel(t.next) : undefined;
    const where = t.path && t.range ? `${oneLine(t.path, 80)}:${t.range.start_line}` : 'no anchor here';
    item.description = `${oneLine(t.short_id)}${next ? ` · next: ${next}` : ''} · ${where}`;
    item.command = { command: OPEN_THREAD_COMMAND, title: 'Open Thread', arguments: [{ exercise_id: t.exercise_id }] };
    const exercise = t.entries.find((e) => e.kind === 'exercise');
    const tooltip = new vscode.MarkdownString();
    // appendText escapes Markdown; visible() shows what a renderer would not.
    tooltip.appendText(`${oneLine(t.topic)} · ${oneLine(t.short_id)} (${oneLine(t.state)})`);
    if (exercise) {
        tooltip.appendMarkdown('\n\n');
        tooltip.appendText(visible(exercise.text));
        if (exercise.expected) {
            tooltip.appendMarkdown('\n\n**Expected:** ');
            tooltip.appendText(visible(exercise.expected));
        }
    }
    item.tooltip = tooltip;
    item.iconPath = new vscode.ThemeIcon(t.state === 'passed' ? 'pass-filled' : yours ? 'bell-dot' : 'book');
    item.contextValue = `exercise.${role}.${t.state}`;
    return item;
}
