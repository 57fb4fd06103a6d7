"""lmdoctor's built-in checks, installed as `lmdoctor_checks` and registered through the
`lmdoctor.checks` entry-point group exactly like a third-party plug-in."""
