"""The promise every test can hold a reply to: no figure that its cited sources do not contain."""
from bot.knowledge.grounding import ungrounded


def assert_grounded(reply):
    cited = [s.quote for s in reply.sources] + [s.label for s in reply.sources]
    missing = ungrounded(reply.text, cited)
    assert not missing, f"figures {missing} not in the cited sources of: {reply.text}"
