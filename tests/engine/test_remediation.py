from __future__ import annotations

from evaluations.engine.plan import PatternStats
from evaluations.engine.remediation import aimed, fix_for, source_diff, suggest


def test_timeout_fix_sets_timeout_and_retries():
    for category in ("tool_timeout", "llm_timeout"):
        for framework in ("openai", "langchain", "anthropic", "crewai", "generic", "langgraph", "openai_agents",
                          "pydantic_ai"):
            fix = fix_for(category, framework)
            assert "timeout=" in fix.code and "retr" in (fix.code + fix.description).lower(), framework


def test_tool_fixes_name_the_tool_and_model_fixes_the_client():
    tool = aimed(fix_for("tool_timeout", "anthropic"), "get_quote")
    assert "get_quote" in tool.title and "def get_quote(" in tool.code and "Anthropic(" not in tool.code
    assert tool.target == "tool"
    assert "anthropic.Anthropic(timeout=30.0" in fix_for("llm_timeout", "anthropic").code
    assert fix_for("rate_limit", "openai", "tool").target == "tool"
    assert fix_for("rate_limit", "openai", "llm").target == "llm"
    assert "weird_name_1 = safe(weird_name_1)" in aimed(fix_for("tool_error", "generic"), "weird name-1").code


def test_framework_specific_fixes():
    assert "handle_parsing_errors=True" in fix_for("output_parse_error", "langchain").code
    assert "max_iterations=" in fix_for("max_iterations", "langchain").code
    assert "max_iter=" in fix_for("max_iterations", "crewai").code
    assert "max_turns=" in fix_for("infinite_loop", "openai_agents").code
    assert "max_retries" in fix_for("rate_limit", "openai").code
    assert fix_for("invalid_tool_arguments", "pydantic_ai") is not None


def test_impact_is_estimated_from_the_data():
    patterns = [PatternStats("a", "tool_timeout", 12, 200), PatternStats("b", "rate_limit", 3, 200)]
    fixes = suggest(patterns, framework="openai", failing_runs=20)
    assert [f["category"] for f in fixes] == ["tool_timeout", "rate_limit"]
    assert fixes[0]["impact"] == {"runs_addressed": 12, "share_of_failures": 0.6, "reliability_pp": 6.0}


def test_unified_diff_against_the_users_source():
    source = {"file": "app/agent.py", "line": 12, "text": 'client = OpenAI(api_key=key)\n'}
    diff = source_diff(source, fix_for("llm_timeout", "openai"))
    assert diff.splitlines() == [
        "--- a/app/agent.py", "+++ b/app/agent.py", "@@ -12 +12 @@",
        "-client = OpenAI(api_key=key)", "+client = OpenAI(api_key=key, timeout=30, max_retries=3)"]
    multi = {"file": "agent.py", "line": 3, "text": "executor = AgentExecutor(\n    agent=agent,\n    tools=tools,\n)\n"}
    patched = source_diff(multi, fix_for("output_parse_error", "langchain"))
    assert "+    tools=tools, handle_parsing_errors=True" in patched
    assert source_diff({"text": "OpenAI(timeout=5, max_retries=1)"}, fix_for("llm_timeout", "openai")) is None
    assert source_diff({"text": "x = 1"}, fix_for("llm_timeout", "openai")) is None


def test_suggest_attaches_diff_when_source_known():
    fixes = suggest([PatternStats("a", "max_iterations", 5, 50)], framework="crewai", failing_runs=5,
                    source={"file": "crew.py", "line": 1, "text": "agent = Agent(role='r')"})
    assert "+agent = Agent(role='r', max_iter=10)" in fixes[0]["diff"]
