"""cookiecutter: the same verification build as copier's task (VERIFY=off|on|strict).

cookiecutter renders this file with Jinja first; the answers arrive as JSON.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path({{ cookiecutter._repo_dir | tojson }}) / "hooks"))
import verify  # noqa: E402

sys.exit(verify.main(["--answers-json", {{ cookiecutter | tojson | tojson }}]))
