"""cookiecutter: the same verification as copier's task (VERIFY=off|on|strict):
the new service's own scripts/verify.sh. cookiecutter runs this in the new project.
"""

import sys

# The template's hooks/ folder, wherever the engine checked it out (cookiecutter or cruft).
sys.path.insert(0, {{ template_hooks_dir | tojson }})
import empty_dirs  # noqa: E402
import main_package  # noqa: E402
import verify  # noqa: E402

empty_dirs.main([])
if main_package.main([{{ cookiecutter.main_package | tojson }}]):
    sys.exit(1)
sys.exit(verify.main([]))
