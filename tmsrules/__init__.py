"""tmsrules: diagnose Cisco TMS "No HTTPS response" after TC/CE upgrades."""

from tmsrules.errors import InferenceError, InputError, RuleError, TmsRulesError

__all__ = ["InputError", "RuleError", "InferenceError", "TmsRulesError"]
