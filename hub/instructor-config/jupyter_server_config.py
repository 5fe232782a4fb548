"""The course account's server may be framed by its own JupyterLab: the formgrader opens in an
iframe, and JupyterHub's single-user servers refuse every frame by default
("frame-ancestors 'none'"), which leaves the formgrader tab blank. Students' servers keep the
default; the files they serve are sandboxed (an opaque origin), so they cannot frame this one."""

c = get_config()  # noqa: F821 -- provided by Jupyter Server when it loads this file
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
