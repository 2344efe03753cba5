#!/usr/bin/env python3
"""A minimal support bot on tmsrules.Consultation, in a terminal (stdin/stdout).

    python examples/chatbot.py            # English
    python examples/chatbot.py pt-BR      # português

It asks which endpoints are in trouble, then only the questions whose answer
can change the verdict or the plan, and ends with the diagnosis. After that,
"how <id>" / "why not <id>" explain a cause or step. A real chatbot would put
an LLM in front of the same loop (or use tmsrules.tool_definitions()).
"""

from __future__ import annotations

import sys

import tmsrules

BOT = {
    "en": {
        "hello": "Hi! I help with Cisco TMS showing 'No HTTPS response' for endpoints.",
        "which": "Which endpoints are affected or about to be upgraded? (names, comma-separated)",
        "idk": "(say 'why' to know why I ask, or just press Enter if you don't know)",
        "bad": "Sorry, I can't use that: {error}",
        "why": "I need it for: {rules}",
        "verdict": "Verdict: {verdict}.",
        "cause": "Cause: {text}",
        "step": "{n}. {text}",
        "plan": "What to do, in this order:",
        "more": "Ask 'how <id>' or 'why not <id>' about any cause or step, or 'bye'.",
        "bye": "Bye!",
    },
    "pt-BR": {
        "hello": "Olá! Eu ajudo quando o Cisco TMS mostra 'No HTTPS response' para endpoints.",
        "which": "Quais endpoints estão afetados ou vão ser atualizados? (nomes, separados por vírgula)",
        "idk": "(diga 'porque' para saber por que pergunto, ou só Enter se não souber)",
        "bad": "Desculpe, não consigo usar isso: {error}",
        "why": "Preciso disso para: {rules}",
        "verdict": "Veredito: {verdict}.",
        "cause": "Causa: {text}",
        "step": "{n}. {text}",
        "plan": "O que fazer, nesta ordem:",
        "more": "Pergunte 'how <id>' ou 'why not <id>' sobre qualquer causa ou passo, ou 'tchau'.",
        "bye": "Tchau!",
    },
}


def ask(prompt: str) -> str | None:
    print(prompt, flush=True)
    line = sys.stdin.readline()
    return None if line == "" else line.strip()


def main(lang: str = "en") -> int:
    say = BOT[lang]
    print(say["hello"])
    consultation = tmsrules.Consultation(lang=lang)
    names = ask(say["which"]) or ""
    for name in filter(None, (n.strip() for n in names.split(","))):
        consultation.add_endpoint(name)

    while (q := consultation.next_question()) is not None:
        choices = f" [{' / '.join(q['choices'])}]" if q["choices"] else ""
        reply = ask(f"{q['ask']}{choices}\n{say['idk']}")
        while reply is not None and reply.lower() in ("why", "porque", "por que"):
            print(say["why"].format(rules="; ".join(w["text"] for w in q["why"]) or "-"))
            reply = ask(q["ask"])
        try:
            consultation.answer(q["fact"], reply or None)  # empty: unknown, never asked again
        except tmsrules.InputError as exc:
            print(say["bad"].format(error=exc))

    d = consultation.diagnosis()
    print(say["verdict"].format(verdict=d.verdict))
    for cause in d.causes:
        print(say["cause"].format(text=cause.summary))
    if d.plan:
        print(say["plan"])
        for n, step in enumerate(d.plan, 1):
            print(say["step"].format(n=n, text=step.title))
    print(say["more"])
    while (line := ask("")) not in (None, "bye", "tchau", ""):
        words = line.split()
        try:
            if words[:2] == ["why", "not"] and len(words) == 3:
                print(d.why_not(words[2], lang=lang)["text"])
            elif words[:1] == ["how"] and len(words) == 2:
                print(d.explain(words[1], lang=lang)["text"])
        except tmsrules.InputError as exc:
            print(say["bad"].format(error=exc))
    print(say["bye"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "en"))
