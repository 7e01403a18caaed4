-- What the headless Neovim scripts do as a person would with the README's setup (init.lua):
-- open a file of the repository and wait for the server, wait for something to show, choose a
-- code action through <leader>a, and stop, writing what happened as JSON for the test to check.
--
-- A script loads it with `local steps = dofile(steps_path)`, next to itself, and ends with
-- `steps.run(main)`. Inputs (environment): COLEARNER_NVIM_ROOT, COLEARNER_NVIM_FILE, COLEARNER_NVIM_OUT.

local steps = {}

-- The script's inputs: the repository's root, the file to open (relative to it), where to write.
function steps.inputs()
  local root = assert(vim.env.COLEARNER_NVIM_ROOT, "COLEARNER_NVIM_ROOT is not set")
  local rel = assert(vim.env.COLEARNER_NVIM_FILE, "COLEARNER_NVIM_FILE is not set")
  local out = assert(vim.env.COLEARNER_NVIM_OUT, "COLEARNER_NVIM_OUT is not set")
  return root, rel, out
end

-- Wait up to `ms` for `check` to return true, else fail saying `failure`.
function steps.wait_for(ms, check, failure)
  assert(vim.wait(ms, check, 50), failure)
end

-- Open `file`; the README's setup starts the server when a file of the repository opens.
-- Returns the buffer and the id of the client attached to it.
function steps.open(file)
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id
  vim.wait(10000, function()
    client_id = next(vim.lsp.buf_get_clients(bufnr))
    return client_id ~= nil
  end, 50)
  assert(client_id, "the README's setup attached no language server")
  return bufnr, client_id
end

-- <leader>a (vim.lsp.buf.code_action) on 0-based `line`: the README's setup lists every action,
-- whatever its kind, through vim.ui.select; the first whose title starts with `wanted` is chosen
-- as a person would (none: cancelled, as Escape would). Returns the titles listed, their kinds,
-- and the title chosen (vim.NIL when none).
function steps.choose_action(line, wanted)
  local listed
  vim.ui.select = function(items, opts, on_choice)
    listed = { titles = {}, kinds = {}, chosen = vim.NIL }
    local choice
    for _, item in ipairs(items) do
      local title = opts.format_item(item)
      table.insert(listed.titles, title)
      table.insert(listed.kinds, item[2].kind or vim.NIL)
      if not choice and vim.startswith(title, wanted) then
        choice = item
        listed.chosen = title
      end
    end
    on_choice(choice)
  end
  vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
  vim.cmd("normal \\a") -- the README maps <leader>a; the leader is Neovim's default, a backslash
  steps.wait_for(10000, function() return listed ~= nil end, "<leader>a listed no code actions")
  return listed
end

-- Stop the server and write `result` as JSON to `out`.
function steps.finish(client_id, out, result)
  local client = vim.lsp.get_client_by_id(client_id)
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 50)
  local handle = assert(io.open(out, "w"))
  handle:write(vim.fn.json_encode(result))
  handle:close()
end

-- Run `main` and quit: exit 0 when it finished, else 1 with its error on stderr.
function steps.run(main)
  local ok, err = pcall(main)
  if ok then
    vim.cmd("qa!")
  else
    io.stderr:write("nvim test failed: " .. tostring(err) .. "\n")
    vim.cmd("cq 1")
  end
end

return steps
