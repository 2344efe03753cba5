"""tmsrules: diagnose Cisco TMS "No HTTPS response" after TC/CE upgrades.

    import tmsrules
    d = tmsrules.diagnose({"tms": {...}, "endpoints": [...]})
    d.verdict, d.causes, d.plan, d.to_dict(), d.to_json()
"""

from tmsrules.batch import diagnose_many
from tmsrules.consult import Consultation
from tmsrules.diagnose import Diagnoser, diagnose
from tmsrules.diagnosis import Diagnosis
from tmsrules.errors import InferenceError, InputError, RuleError, TmsRulesError
from tmsrules.evidence import read_evidence
from tmsrules.model import Environment
from tmsrules.simulate import simulate
from tmsrules.tools import tool_definitions

__version__ = "0.1.0"

__all__ = [
    "Consultation",
    "Diagnoser",
    "Diagnosis",
    "Environment",
    "InferenceError",
    "InputError",
    "RuleError",
    "TmsRulesError",
    "diagnose",
    "diagnose_many",
    "read_evidence",
    "simulate",
    "tool_definitions",
]
