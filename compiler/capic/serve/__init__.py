"""``capic serve``: the live forwarding service, a thin ASGI face over a rule module.

One module per job:

- :mod:`~capic.serve.config` the deployment (flags and ``CAPIC_*`` variables) and
  :mod:`~capic.serve.site` the site settings a bundle carries (its ``SERVE`` constant);
- :mod:`~capic.serve.context` what rules see as ``request`` (client IP through trusted
  proxies, headers, cookies);
- :mod:`~capic.serve.auth`, :mod:`~capic.serve.cors`, :mod:`~capic.serve.limits` the gates in
  front of the rules;
- :mod:`~capic.serve.cookies` first-party ``_fbp``/``_fbc`` (through
  :mod:`capic.runtime.clickids`), :mod:`~capic.serve.enhance` the enhancement store;
- :mod:`~capic.serve.body` reading request bodies, :mod:`~capic.serve.rules` the active
  bundle and its reloads, :mod:`~capic.serve.metrics` and :mod:`~capic.serve.accesslog`;
- :mod:`~capic.serve.app` the routes, :mod:`~capic.serve.service` the process (servers,
  delivery engine, signals, drain).

Only :mod:`~capic.serve.app` and :mod:`~capic.serve.service` import Starlette/uvicorn (the
``capic[serve]`` extra). Nothing here imports a compiler stage: in production the service
runs bundles; ``capic serve PROJECT`` compiles through :mod:`capic.api` (see
:mod:`~capic.serve.rules`).
"""
