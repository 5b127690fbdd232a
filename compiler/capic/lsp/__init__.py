"""``capic lsp``: a language server for ``*.capi`` files (pygls, over stdio; ``capic[lsp]``).

The handlers in :mod:`capic.lsp.server` are thin: they translate LSP messages to calls of
pure functions (:mod:`~capic.lsp.symbols`, :mod:`~capic.lsp.hover`, :mod:`~capic.lsp.complete`,
:mod:`~capic.lsp.actions`) over what :mod:`~capic.lsp.state` keeps: the open buffers and the
last result of checking each project the same way ``capic check`` does (``check_paths`` with
the buffers as an overlay over the files on disk). :mod:`~capic.lsp.positions` is the one
place where capic's 1-based code-point spans and LSP's 0-based UTF-16 positions meet.
"""
