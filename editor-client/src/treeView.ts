// The "Colearner" activity-bar tree. A student sees each session's plan steps
// and exercises grouped by state, with the coach's feedback under each; a
// coach sees each student with stage, completion and blockers.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine, visible } from './display';
import { Blocker, Dashboard, Exercise, Feedback, Inbox, InboxSession, Methods, mistakeText, PlanStep, StudentRow } from './protocol';

export const OPEN_ANCHOR_COMMAND = 'colearner.ui.openAnchor';
export const TREE_VIEW_ID = 'colearner.session';

// Exercise states in the order a student meets them; unknown states follow.
const STATE_ORDER = ['assigned', 'acknowledged', 'responded', 'revise', 'passed'];
// A label longer than this is cut (the tooltip has the whole text).
const LABEL_CHARS = 120;

type Node =
    | { kind: 'session'; session: InboxSession }
    | { kind: 'plan'; steps: PlanStep[]; goals: string[] }
    | { kind: 'step'; step: PlanStep }
    | { kind: 'state'; state: string; exercises: Exercise[] }
    | { kind: 'exercise'; exercise: Exercise }
    | { kind: 'feedback'; feedback: Feedback }
    | { kind: 'student'; row: StudentRow }
    | { kind: 'text'; label: string; icon: string; tooltip?: string };

export class SessionTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
    private readonly changes = new vscode.EventEmitter<Node | undefined>();
    readonly onDidChangeTreeData = this.changes.event;
    private readonly view: vscode.TreeView<Node>;

    constructor(private readonly client: ColearnerClient) {
        this.view = vscode.window.createTreeView(TREE_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    }

    refresh(): void {
        this.changes.fire(undefined);
    }

    dispose(): void {
        this.view.dispose();
        this.changes.dispose();
    }

    getTreeItem(node: Node): vscode.TreeItem {
        return treeItem(node);
    }

    async getChildren(node?: Node): Promise<Node[]> {
        if (node) {
            return childrenOf(node);
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
        try {
            const roots =
                status.role === 'student'
                    ? (await this.client.request<Inbox>(Methods.inbox)).sessions.map((session): Node => ({ kind: 'session', session }))
                    : (await this.client.request<Dashboard>(Methods.dashboard)).students.map((row): Node => ({ kind: 'student', row }));
            this.view.message = roots.length === 0 ? emptyMessage(status.role) : undefined;
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

function childrenOf(node: Node): Node[] {
    switch (node.kind) {
        case 'session': {
            const { steps, goals } = node.session.plan;
            const plan: Node[] = steps.length || goals.length ? [{ kind: 'plan', steps, goals }] : [];
            return [...plan, ...byState(node.session.exercises)];
        }
        case 'plan':
            return [
                ...node.goals.map((goal): Node => ({ kind: 'text', label: oneLine(goal, LABEL_CHARS), icon: 'target', tooltip: visible(goal) })),
                ...node.steps.map((step): Node => ({ kind: 'step', step })),
            ];
        case 'state':
            return node.exercises.map((exercise): Node => ({ kind: 'exercise', exercise }));
        case 'exercise':
            return node.exercise.feedback.map((feedback): Node => ({ kind: 'feedback', feedback }));
        case 'feedback':
            return node.feedback.mistakes.map((mistake): Node => ({ kind: 'text', label: oneLine(mistakeText(mistake), LABEL_CHARS), icon: 'circle-small' }));
        case 'student':
            return [countsNode(node.row), ...node.row.blockers.map(blockerNode)];
        default:
            return [];
    }
}

function byState(exercises: Exercise[]): Node[] {
    const groups = new Map<string, Exercise[]>();
    for (const exercise of exercises) {
        groups.set(exercise.state, [...(groups.get(exercise.state) ?? []), exercise]);
    }
    const rank = (state: string) => (STATE_ORDER.includes(state) ? STATE_ORDER.indexOf(state) : STATE_ORDER.length);
    return [...groups.entries()]
        .sort(([a], [b]) => rank(a) - rank(b))
        .map(([state, group]): Node => ({ kind: 'state', state, exercises: group }));
}

function countsNode(row: StudentRow): Node {
    const c = row.counts;
    return {
        kind: 'text',
        icon: 'checklist',
        label: `${c.passed} passed · ${c.responded} responded · ${c.acknowledged} acknowledged · ${c.assigned} assigned · ${c.revise} to revise`,
        tooltip: row.last_activity ? `Last activity ${oneLine(row.last_activity)}` : 'No activity yet',
    };
}

function blockerNode(blocker: Blocker): Node {
    return {
        kind: 'text',
        icon: 'warning',
        label: oneLine(`${blocker.kind}: ${blocker.reason}`, LABEL_CHARS),
        tooltip: blocker.since ? `since ${oneLine(blocker.since)}` : undefined,
    };
}

function treeItem(node: Node): vscode.TreeItem {
    const { Collapsed, Expanded, None } = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
        case 'session': {
            const item = new vscode.TreeItem(`Session · ${oneLine(node.session.stage)}`, Expanded);
            item.description = node.session.coach ? `coach ${oneLine(node.session.coach)}` : undefined;
            item.tooltip = oneLine(node.session.session_id);
            item.iconPath = new vscode.ThemeIcon('mortar-board');
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
            const item = new vscode.TreeItem(`${oneLine(node.state)} (${node.exercises.length})`, Expanded);
            item.iconPath = new vscode.ThemeIcon('folder');
            return item;
        }
        case 'exercise':
            return exerciseItem(node.exercise);
        case 'feedback': {
            const f = node.feedback;
            const item = new vscode.TreeItem(oneLine(`${f.grade}: ${f.next_step}`, LABEL_CHARS), f.mistakes.length ? Collapsed : None);
            item.tooltip = visible(f.next_step);
            item.description = `confidence ${f.confidence_delta >= 0 ? '+' : ''}${f.confidence_delta}`;
            item.iconPath = new vscode.ThemeIcon(f.grade === 'pass' ? 'pass-filled' : 'edit');
            return item;
        }
        case 'student': {
            const row = node.row;
            const item = new vscode.TreeItem(oneLine(row.student), Collapsed);
            item.description = `${oneLine(row.stage)} · ${Math.round(row.completion_rate * 100)}%${row.blockers.length ? ` · ${row.blockers.length} blocker(s)` : ''}`;
            item.tooltip = row.session_id ? `Session ${oneLine(row.session_id)}` : 'No session yet';
            item.iconPath = new vscode.ThemeIcon(row.blockers.length ? 'warning' : 'person');
            return item;
        }
        case 'text': {
            const item = new vscode.TreeItem(node.label, None);
            item.iconPath = new vscode.ThemeIcon(node.icon);
            item.tooltip = node.tooltip;
            return item;
        }
    }
}

function exerciseItem(exercise: Exercise): vscode.TreeItem {
    const item = new vscode.TreeItem(oneLine(exercise.topic, LABEL_CHARS), exercise.feedback.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = exercise.exercise_id;
    if (exercise.anchor) {
        item.description = oneLine(`${exercise.anchor.path}:${exercise.anchor.start_line}`);
        item.command = { command: OPEN_ANCHOR_COMMAND, title: 'Open Exercise', arguments: [exercise.anchor] };
    }
    const tooltip = new vscode.MarkdownString();
    // appendText escapes Markdown; visible() shows what a renderer would not.
    tooltip.appendText(oneLine(exercise.topic));
    tooltip.appendMarkdown(' (');
    tooltip.appendText(oneLine(exercise.state));
    tooltip.appendMarkdown(')\n\n');
    tooltip.appendText(visible(exercise.exercise));
    tooltip.appendMarkdown('\n\n**Expected:** ');
    tooltip.appendText(visible(exercise.expected));
    if (exercise.tests.length) {
        tooltip.appendMarkdown('\n\n**Tests:** ');
        tooltip.appendText(oneLine(exercise.tests.join(', ')));
    }
    item.tooltip = tooltip;
    item.iconPath = new vscode.ThemeIcon('book');
    item.contextValue = 'exercise';
    return item;
}
