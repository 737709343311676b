"""cookiecutter: refuse bad answers with the messages copier's validators give.

cookiecutter renders this file with Jinja first; the answers arrive as JSON.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path({{ cookiecutter._repo_dir | tojson }}) / "hooks"))
import service_template  # noqa: E402

answers = json.loads({{ cookiecutter | tojson | tojson }})
errors = service_template.all_validation_errors(answers)
for error in errors:
    print(f"error: {error}", file=sys.stderr)
sys.exit(1 if errors else 0)
