-- Headless Neovim (0.7) as a real LSP client of `colearner serve` (see /recipes/neovim.md in the
-- design notes, and the README's Neovim setup): wait for the assignment's diagnostic, read the
-- hover's floating window, list the code actions on its line with the README's <leader>a and
-- choose "Acknowledge", and write what happened as JSON for the test to check.
--
-- Inputs (environment): COLEARNER_NVIM_ROOT, COLEARNER_NVIM_FILE, COLEARNER_NVIM_OUT; `colearner`
-- on PATH, and the README's setup as init.lua.

local function main()
  local root = assert(vim.env.COLEARNER_NVIM_ROOT, "COLEARNER_NVIM_ROOT is not set")
  local file = root .. "/" .. assert(vim.env.COLEARNER_NVIM_FILE, "COLEARNER_NVIM_FILE is not set")
  local out = assert(vim.env.COLEARNER_NVIM_OUT, "COLEARNER_NVIM_OUT is not set")
  local result = {}

  -- The README's Neovim setup (the test's init.lua) starts the server when a file of the repository opens.
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id
  vim.wait(10000, function()
    client_id = next(vim.lsp.buf_get_clients(bufnr))
    return client_id ~= nil
  end, 50)
  assert(client_id, "the README's setup attached no language server")
  assert(vim.lsp.get_client_by_id(client_id).config.root_dir == root, "the server is not rooted at the repository")

  local arrived = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  assert(arrived, "no diagnostics arrived")
  local diagnostic = vim.diagnostic.get(bufnr)[1]
  result.diagnostic = {
    lnum = diagnostic.lnum,
    end_lnum = diagnostic.end_lnum,
    severity = diagnostic.severity,
    source = diagnostic.source,
    code = diagnostic.code,
    message = diagnostic.message,
  }

  local line = diagnostic.lnum

  -- The thread text, as the README's setup shows it: K (vim.lsp.buf.hover) on the exercise's line
  -- opens a floating window with the exercise's Markdown.
  vim.api.nvim_win_set_cursor(0, { line + 2, 0 })
  vim.cmd("normal K")
  local float
  vim.wait(10000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= "" then
        float = win
        return true
      end
    end
    return false
  end, 50)
  assert(float, "K (hover) opened no floating window")
  result.hover = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)
  -- The actions, as the README's setup lists them: <leader>a (vim.lsp.buf.code_action) on the
  -- exercise's line shows every action, whatever its kind, through vim.ui.select; choose
  -- Acknowledge there as a person would.
  local listed
  vim.ui.select = function(items, opts, on_choice)
    listed = { titles = {}, kinds = {} }
    local choice
    for _, item in ipairs(items) do
      local title = opts.format_item(item)
      table.insert(listed.titles, title)
      table.insert(listed.kinds, item[2].kind or vim.NIL)
      if not choice and vim.startswith(title, "Acknowledge") then
        choice = item
      end
    end
    result.acknowledged = choice and opts.format_item(choice) or vim.NIL
    on_choice(choice) -- nil: cancelled, as Escape would
  end
  vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
  vim.cmd("normal \\a") -- the README maps <leader>a; the leader is Neovim's default, a backslash
  assert(vim.wait(10000, function() return listed ~= nil end, 50), "<leader>a listed no code actions")
  result.actions = listed.titles
  result.kinds = listed.kinds
  assert(result.acknowledged ~= vim.NIL, "no Acknowledge action among: " .. table.concat(listed.titles, ", "))

  -- The server publishes the new state: the exercise turns into a hint.
  result.hint = vim.wait(10000, function()
    local now = vim.diagnostic.get(bufnr)
    return #now > 0 and now[1].severity == vim.diagnostic.severity.HINT
  end, 50)

  local client = vim.lsp.get_client_by_id(client_id)
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 50)
  local handle = assert(io.open(out, "w"))
  handle:write(vim.fn.json_encode(result))
  handle:close()
end

local ok, err = pcall(main)
if ok then
  vim.cmd("qa!")
else
  io.stderr:write("nvim test failed: " .. tostring(err) .. "\n")
  vim.cmd("cq 1")
end
