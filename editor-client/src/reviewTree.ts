// The coach's "Waiting for Review" tree: every answer waiting, across students, the one waiting
// longest first (`colearner/reviewQueue`, the same list as `colearner review`). An answer opens its
// exercise; its evidence files are its children, each opening the student's change.

import * as vscode from 'vscode';
import { ColearnerClient } from './client';
import { oneLine, visible } from './display';
import { OPEN_ANCHOR_COMMAND } from './treeView';
import { relativeTime } from './viewModel';
import { ChangeArgument } from './protocol';

export const REVIEW_TREE_ID = 'colearner.review';
export const SHOW_CHANGE_UI = 'colearner.ui.review.showChange';
const REVIEW_QUEUE = 'colearner/reviewQueue';

export interface Waiting {
    exercise_id: string;
    session_id: string;
    student: string;
    topic: string;
    waiting_since: string;
    answer: string;
    files: string[];
    anchor: { path: string; start_line: number; end_line: number } | null;
}

type Node = { kind: 'answer'; waiting: Waiting } | { kind: 'file'; waiting: Waiting; path: string };

export class ReviewTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
    private readonly changes = new vscode.EventEmitter<Node | undefined>();
    readonly onDidChangeTreeData = this.changes.event;
    private readonly view: vscode.TreeView<Node>;

    constructor(private readonly client: ColearnerClient) {
        this.view = vscode.window.createTreeView(REVIEW_TREE_ID, { treeDataProvider: this });
    }

    refresh(): void {
        this.changes.fire(undefined);
    }

    dispose(): void {
        this.view.dispose();
        this.changes.dispose();
    }

    getTreeItem(node: Node): vscode.TreeItem {
        const w = node.waiting;
        if (node.kind === 'file') {
            const item = new vscode.TreeItem(oneLine(node.path, 120), vscode.TreeItemCollapsibleState.None);
            item.iconPath = new vscode.ThemeIcon('diff');
            item.tooltip = `Show the student's change: ${oneLine(node.path)} (${oneLine(w.student)})`;
            const argument: ChangeArgument = { exercise_id: w.exercise_id, path: node.path };
            item.command = { command: SHOW_CHANGE_UI, title: "Show the student's change", arguments: [argument] };
            item.contextValue = 'review.file';
            return item;
        }
        const item = new vscode.TreeItem(
            `${oneLine(w.student, 60)} · ${oneLine(w.topic, 60)}`,
            w.files.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
        );
        const since = relativeTime(w.waiting_since);
        item.description = `waiting ${since || 'since ' + oneLine(w.waiting_since)} · ${w.files.length} file${w.files.length === 1 ? '' : 's'}`;
        item.tooltip = new vscode.MarkdownString().appendText(`${visible(w.answer)}\n\n${w.exercise_id}`);
        item.iconPath = new vscode.ThemeIcon('inbox');
        item.contextValue = 'review.answer';
        if (w.anchor) {
            item.command = { command: OPEN_ANCHOR_COMMAND, title: 'Open Exercise', arguments: [w.anchor] };
        }
        return item;
    }

    async getChildren(node?: Node): Promise<Node[]> {
        if (node) {
            return node.kind === 'answer' ? node.waiting.files.map((path) => ({ kind: 'file', waiting: node.waiting, path })) : [];
        }
        if (this.client.state.kind !== 'running' || this.client.status?.role !== 'coach') {
            this.view.message = this.client.status?.role === 'student' ? 'For a coach: the answers waiting for review.' : undefined;
            return [];
        }
        try {
            const queue = await this.client.request<{ waiting: Waiting[] }>(REVIEW_QUEUE, {});
            this.view.message = queue.waiting.length ? undefined : 'No answer is waiting for your review.';
            return queue.waiting.map((waiting) => ({ kind: 'answer', waiting }));
        } catch (error) {
            this.view.message = `colearner: ${error instanceof Error ? error.message : String(error)}`;
            return [];
        }
    }
}
