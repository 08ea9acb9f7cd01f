"""Python projects: detect a project's layout, framework, entry point, port and Python version; write a
production Dockerfile and .dockerignore for it; and check a project or a running container for the port and
bind mistakes that make an app unreachable (the seed tutorial's ``-p 8000:80`` with an app on 8000).

L1 and pure: imports only skiff.oci, skiff.errors, skiff.build.dockerfile and the standard library. Reading
``/proc/<pid>/net/tcp`` (``ports.read_listeners``) is the only I/O outside the project folder.

Entry points: ``detect.detect_project(path)``, ``generate.render_dockerfile(project)``,
``generate.write_files(project, force=)``, ``checks.check_project(path, skip=)``,
``ports.read_listeners(pid)``, ``ports.port_findings(published, exposed, listeners)``.
"""
