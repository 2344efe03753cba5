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
from tmsrules.model import Environment
from tmsrules.simulate import SimStep, Simulation, simulate
from tmsrules.tools import tool_definitions

__version__ = "0.1.0"


def read_evidence(*paths):
    """The partial environment that captures, registry exports and event logs show
    (see ``tmsrules.evidence.read_evidence``; imported on first use: dpkt is heavy)."""
    from tmsrules.evidence import read_evidence as read

    return read(*paths)

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
    "Simulation",
    "SimStep",
    "tool_definitions",
]
