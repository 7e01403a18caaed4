// Issue 18, the student's response document: the exercise's "Respond" lens (via "lens") or
// "Colearner: Respond to Exercise…" with the cursor on the exercise (via "palette") opens
// .colearner/responses/<topic>-<short id>.md, which lists the changed anchored file
// as evidence and shows its "Send response" lens and title-bar button; the answer typed
// there is sent with the lens (via "lens") or the button (via "palette"). Records how long
// each takes to show after the document's tab does (figures for the report, not a test).
// Params: url, chromium, artifacts, workspace, path, line, topic, answer, via.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { runDriver, openWorkbench, waitForStatus, runCommand, openFile, goToLine } = require('./workbench');

const LENS = '.codelens-decoration';
const ANSWER_START = '<!-- answer:start -->';

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /to answer/);

    step(`the exercise's "Respond" lens at ${params.path}:${params.line}`);
    await openFile(page, params.path);
    await goToLine(page, params.line);
    const respond = page.locator(`${LENS} a`).filter({ hasText: 'Respond' }).first();
    await respond.waitFor({ timeout: 60_000 });
    result.respond_lens = ((await page.locator(LENS).filter({ hasText: 'Respond' }).first().textContent()) ?? '').trim();
    await shot('01-respond-lens');

    step(`${params.via === 'palette' ? 'the palette command' : 'click it'}: the response document opens`);
    const clicked = Date.now();
    if (params.via === 'palette') {
        await runCommand(page, 'Colearner: Respond to Exercise');
    } else {
        await respond.click();
    }
    const tab = page.locator('.tabs-container .tab.active').filter({ hasText: `${params.topic}-` });
    await tab.waitFor({ timeout: 30_000 });
    const opened = Date.now();
    result.tab = ((await tab.textContent()) ?? '').trim();

    step('the "Send response" lens at its top and the "Send Response" button in the title bar');
    const send = page.locator(`${LENS} a`).filter({ hasText: 'Send response' }).first();
    const button = page.locator('.editor-actions a.action-label[aria-label^="Send Response"]').first();
    // Polled rather than awaited, to time each to within a frame or two.
    while (result.send_lens_after_tab_s === undefined || result.send_button_after_tab_s === undefined) {
        const now = (Date.now() - opened) / 1000;
        if (now > 60) {
            throw new Error(`within 60 s of the document opening: lens ${result.send_lens_after_tab_s}, button ${result.send_button_after_tab_s}`);
        }
        if (result.send_lens_after_tab_s === undefined && (await send.isVisible().catch(() => false))) {
            result.send_lens_after_tab_s = now;
            result.send_lens_after_click_s = (Date.now() - clicked) / 1000;
        }
        if (result.send_button_after_tab_s === undefined && (await button.isVisible().catch(() => false))) {
            result.send_button_after_tab_s = now;
        }
        await page.waitForTimeout(20);
    }
    await shot('02-response-document');

    step('the evidence the document lists');
    const folder = path.join(params.workspace, '.colearner', 'responses');
    const name = fs.readdirSync(folder).find((file) => file.startsWith(`${params.topic}-`));
    const lines = fs.readFileSync(path.join(folder, name), 'utf8').split('\n');
    const evidenceLine = lines.findIndex((line) => line === params.path) + 1;
    if (evidenceLine > 0) {
        await goToLine(page, evidenceLine); // brings it into view, for the eye and the screenshot
        result.evidence_shown = (await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText()).includes(params.path);
        await shot('03-evidence-listed');
    }

    step('write the answer between the markers and send it with the lens');
    await goToLine(page, lines.indexOf(ANSWER_START) + 1);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type(params.answer);
    await goToLine(page, 1);
    if (params.via === 'palette') {
        await button.click();
    } else {
        await send.click();
    }
    result.status_bar_after = await waitForStatus(page, /nothing to answer/);
    await shot('04-sent');
});
