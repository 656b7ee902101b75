"""Jupyter server plug-in for ``evaluatie lab``: kernels start in the project folder.

JupyterLab starts a notebook's kernel in the notebook's own folder (``notebooks/``),
whereas ``evaluatie run`` executes notebooks with the project folder as working
directory, where relative parameters such as ``raw_dir: data/raw`` point. This contents
manager starts every kernel in the server's root folder (the project folder), so a
notebook opened by hand reads the same files as a papermill run of it.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager


class ProjectRootContentsManager(AsyncLargeFileManager):
    """The default file manager, except that kernels start in the root folder."""

    async def get_kernel_path(self, path: str, model: Any = None) -> str:
        """The API path a kernel starts in: always the root folder (``""``)."""
        return ""
