"""cookiecutter: the same verification build as copier's task (VERIFY=off|on|strict).

cookiecutter renders this file with Jinja first; the answers arrive as JSON.
"""

import sys

# The template's hooks/ folder, wherever the engine checked it out (cookiecutter or cruft).
sys.path.insert(0, {{ template_hooks_dir | tojson }})
import verify  # noqa: E402

sys.exit(verify.main(["--answers-json", {{ cookiecutter | tojson | tojson }}]))
