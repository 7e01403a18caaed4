// Shared steps for driving the VS Code workbench that code-server serves, in
// Debian's headless Chromium through playwright-core. A driver script calls
// runDriver(main): main gets the page and the parameters the Python harness
// wrote, records what it saw in `result`, and everything lands in the
// artifact folder (result.json, screenshots), also when a step fails.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

// From the machine notes: without the networking flags Chromium keeps dialling
// hosts a closed network refuses.
const CHROMIUM_FLAGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

const STATUS_ITEM = '#workbench\\.parts\\.statusbar .statusbar-item';
const QUICK_INPUT = '.quick-input-widget';

async function runDriver(main) {
    const params = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const out = params.artifacts;
    fs.mkdirSync(out, { recursive: true });
    const result = { steps: [], notifications: [] };
    const started = Date.now();
    const step = (name) => {
        result.steps.push({ name, at_s: (Date.now() - started) / 1000 });
        process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${name}\n`);
    };
    const context = await chromium.launchPersistentContext(path.join(out, 'chromium-profile'), {
        executablePath: params.chromium,
        headless: true,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1440, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
    let failed = false;
    try {
        await main({ page, params, result, step, shot });
    } catch (error) {
        failed = true;
        result.error = String(error && error.stack ? error.stack : error);
        await shot('failure').catch(() => undefined);
    }
    result.notifications = await notificationTexts(page).catch(() => []);
    result.elapsed_s = (Date.now() - started) / 1000;
    fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));
    await context.close().catch(() => undefined);
    fs.rmSync(path.join(out, 'chromium-profile'), { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
}

/** Opens the workbench on a folder and waits until the explorer shows it. */
async function openWorkbench(page, url, timeout = 90_000) {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
    await page.locator('.monaco-workbench').waitFor({ timeout });
    await page.locator('.explorer-folders-view').first().waitFor({ timeout });
}

/** The colearner status bar item's text once it matches `pattern`. */
async function waitForStatus(page, pattern, timeout = 90_000) {
    const item = page.locator(STATUS_ITEM).filter({ hasText: 'colearner:' }).first();
    await item.waitFor({ timeout });
    const deadline = Date.now() + timeout;
    let text = '';
    while (Date.now() < deadline) {
        text = ((await item.textContent()) ?? '').trim();
        if (pattern.test(text)) {
            return text;
        }
        await page.waitForTimeout(250);
    }
    throw new Error(`status bar never matched ${pattern}; last: "${text}"; notifications: ${JSON.stringify(await notificationTexts(page))}`);
}

/** Runs a command by its palette title, e.g. "Colearner: Open Dashboard". */
async function runCommand(page, title) {
    await page.keyboard.press('F1');
    const input = page.locator(`${QUICK_INPUT} input`);
    await input.waitFor();
    await input.fill(`>${title}`);
    await page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ hasText: title }).first().waitFor();
    await page.keyboard.press('Enter');
}

/** Opens a workspace file through Quick Open. */
async function openFile(page, relativePath) {
    await page.keyboard.press('Control+P');
    const input = page.locator(`${QUICK_INPUT} input`);
    await input.waitFor();
    await input.fill(relativePath);
    const name = path.basename(relativePath);
    await page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ hasText: name }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active').filter({ hasText: name }).waitFor();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
}

/** Moves the cursor of the active editor to a 1-based line. */
async function goToLine(page, line) {
    await page.keyboard.press('Control+G');
    const input = page.locator(`${QUICK_INPUT} input`);
    await input.waitFor();
    await input.fill(`:${line}`);
    await page.keyboard.press('Enter');
    await page.locator(`${QUICK_INPUT}`).waitFor({ state: 'hidden' });
}

/**
 * Opens the code action menu (Ctrl+.) at a 1-based line of the active editor and returns its rows'
 * texts: group headings ("More Actions...", "Quick Fix", …) and actions, in order. A code lens or a
 * comment thread arriving meanwhile moves the lines and closes the menu: it is asked for again.
 */
async function openActionMenu(page, line) {
    const rows = page.locator('.action-widget .monaco-list-row');
    for (let attempt = 1; ; attempt++) {
        await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
        await goToLine(page, line);
        await page.keyboard.press('Control+.');
        try {
            await rows.first().waitFor({ timeout: 10_000 });
            return (await rows.allTextContents()).map((text) => text.trim());
        } catch (error) {
            if (attempt === 3) throw error;
            await page.keyboard.press('Escape');
        }
    }
}

/** Runs the open menu's first action whose text includes `label`, with the keyboard (the menu sits under a pointer blocker). */
async function chooseAction(page, label) {
    const rows = await page.locator('.action-widget .monaco-list-row').count();
    const focused = page.locator('.action-widget .monaco-list-row.focused');
    for (let i = 0; i <= rows; i++) {
        const text = ((await focused.textContent().catch(() => '')) ?? '').trim();
        if (text.includes(label)) {
            await page.keyboard.press('Enter');
            await page.locator('.action-widget').waitFor({ state: 'hidden' });
            return text;
        }
        await page.keyboard.press('ArrowDown');
    }
    throw new Error(`no action "${label}" in the menu`);
}

/** The texts of the notification toasts and the notification center. */
async function notificationTexts(page) {
    return page.locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message').allTextContents();
}

module.exports = { runDriver, openWorkbench, waitForStatus, runCommand, openFile, goToLine, openActionMenu, chooseAction };
