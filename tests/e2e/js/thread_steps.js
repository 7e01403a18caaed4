// Steps on the Colearner comment threads (VS Code's Comments API widgets in
// the editor), the activity-bar badge and the Comments panel.

'use strict';

const THREAD = '.review-widget';

/** The comment-thread widget in the editor whose text holds `text`, once it shows. */
async function waitForThread(page, text, timeout = 60_000) {
    const thread = page.locator(THREAD).filter({ hasText: text }).first();
    await thread.waitFor({ timeout });
    return thread;
}

/** A thread's header (its label) and the comments' texts. */
async function readThread(thread) {
    const head = ((await thread.locator('.head').first().textContent().catch(() => '')) ?? '').trim();
    const comments = (await thread.locator('.review-comment').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    const canReply = (await thread.locator('.comment-form').count()) > 0 && (await thread.locator('.comment-form').first().isVisible().catch(() => false));
    return { head, comments, can_reply: canReply };
}

/**
 * Scrolls the code editor (with the mouse wheel, as a person would) until `target`
 * lies inside it, for up to `timeout` ms. Monaco lays out view zones itself, so Playwright's own
 * scroll-into-view cannot reach a thread that a zone above pushed off screen.
 */
async function revealInEditor(page, target, timeout = 5_000) {
    const editor = page.locator('.editor-instance .monaco-editor .overflow-guard').first();
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
        const box = await target.boundingBox();
        const view = await editor.boundingBox();
        if (!box || !view) {
            await page.waitForTimeout(200);
            continue;
        }
        const above = box.y < view.y;
        const below = box.y + Math.min(box.height, 40) > view.y + view.height;
        if (!above && !below) {
            return;
        }
        await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2);
        await page.mouse.wheel(0, above ? -(view.y - box.y + 60) : box.y + Math.min(box.height, 120) - (view.y + view.height) + 60);
        await page.waitForTimeout(200);
    }
    // Could not scroll it fully in (the end of the file, a zone taller than the view): the
    // click that follows tries Playwright's own scrolling, as before this helper.
}

/** Types `text` in the thread's reply box and presses its "Reply" button. */
async function reply(page, thread, text) {
    const opener = thread.locator('.review-thread-reply-button');
    if (await opener.isVisible().catch(() => false)) {
        await revealInEditor(page, opener);
        await opener.click();
    }
    const editor = thread.locator('.comment-form .monaco-editor').first();
    await editor.waitFor({ timeout: 15_000 });
    await revealInEditor(page, editor);
    await editor.click();
    await page.keyboard.type(text);
    const button = thread.locator('.comment-form-container .form-actions .monaco-button').filter({ hasText: 'Reply' }).first();
    await button.waitFor({ timeout: 15_000 });
    await revealInEditor(page, button);
    await button.click();
}

/** Waits until the thread widget holding `anchorText` has a comment containing `text`. */
async function waitForComment(page, anchorText, text, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    let last = null;
    while (Date.now() < deadline) {
        const thread = page.locator(THREAD).filter({ hasText: anchorText }).first();
        if ((await thread.count()) > 0) {
            last = await readThread(thread);
            if (last.comments.some((c) => c.includes(text))) {
                return last;
            }
        }
        await page.waitForTimeout(500);
    }
    throw new Error(`no comment "${text}" in the thread "${anchorText}" within ${timeout / 1000} s; last seen: ${JSON.stringify(last)}`);
}

/** The number on the Colearner activity-bar icon ('' when none). */
async function colearnerBadge(page) {
    const item = page.locator('.activitybar .action-item').filter({ has: page.locator('[aria-label*="Colearner"]') }).first();
    const badge = item.locator('.badge-content');
    if ((await badge.count()) === 0 || !(await badge.first().isVisible().catch(() => false))) {
        return '';
    }
    return ((await badge.first().textContent()) ?? '').trim();
}

/** Waits for the activity-bar badge to read `value`. */
async function waitForBadge(page, value, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    let seen = '';
    while (Date.now() < deadline) {
        seen = await colearnerBadge(page);
        if (seen === value) {
            return seen;
        }
        await page.waitForTimeout(500);
    }
    throw new Error(`the Colearner badge never read "${value}"; last: "${seen}"`);
}

/** The Comments panel's rows (text and whether each shows the resolved icon). */
async function commentsPanelRows(page) {
    const rows = page.locator('.comments-panel .monaco-list-row, .comments-tree-container .monaco-list-row');
    const count = await rows.count();
    const found = [];
    for (let i = 0; i < count; i++) {
        const row = rows.nth(i);
        found.push({
            text: ((await row.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
            aria: (await row.getAttribute('aria-label')) ?? '',
            html_icons: await row.locator('.codicon').evaluateAll((els) => els.map((e) => e.className)),
        });
    }
    return found;
}

/** Opens an exercise's thread from the Colearner tree (its state group expanded first). */
async function openFromTree(page, runCommand, group, topic) {
    await runCommand(page, 'View: Show Colearner');
    const rows = page.locator('#workbench\\.parts\\.sidebar .monaco-list-row');
    const state = rows.filter({ hasText: group }).first();
    await state.waitFor({ timeout: 60_000 });
    if ((await state.getAttribute('aria-expanded')) !== 'true') {
        await state.click();
    }
    const row = rows.filter({ hasText: topic }).last();
    await row.waitFor({ timeout: 30_000 });
    const texts = (await rows.allTextContents()).map((t) => t.trim());
    await row.click();
    return texts;
}

module.exports = { revealInEditor, openFromTree, waitForThread, readThread, reply, waitForComment, colearnerBadge, waitForBadge, commentsPanelRows };
