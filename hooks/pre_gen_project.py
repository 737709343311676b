"""cookiecutter: refuse bad answers with the messages copier's validators give.

cookiecutter renders this file with Jinja first; the answers arrive as JSON.
"""

import json
import sys

# The template's hooks/ folder, wherever the engine checked it out (cookiecutter or cruft).
sys.path.insert(0, {{ template_hooks_dir | tojson }})
import service_template  # noqa: E402

answers = json.loads({{ cookiecutter | tojson | tojson }})
errors = service_template.refusals(answers)
for error in errors:
    print(f"error: {error}", file=sys.stderr)
# The exit code alone: cookiecutter then says "Hook script failed" (docs/cookiecutter.md).
sys.exit(1 if errors else 0)
