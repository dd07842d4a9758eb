namespace PowerService.Runtime;

/// <summary>Marks the grain calls an async flow makes as a person's (a dispatcher's, a crew's, a customer's request),
/// and every call those grains make for it in turn. Their state writes are committed ahead of the writes the silo
/// makes on its own account — a storm's outage openings, reminders, timers — which someone awaits too, but no person:
/// in the 1,000,000-meter storm a dispatcher's update spent 100–230 ms queued behind the storm's awaited writes and
/// then waited for the one SQLite writer while it committed them. The API marks every request but the head-end's.</summary>
public static class InteractiveCalls
{
    private static readonly AsyncLocal<bool> s_interactive = new();

    /// <summary>Whether calls made here now are a person's.</summary>
    public static bool IsCurrent => Activation.Running is { } turn ? turn.CurrentRequest?.Interactive == true : s_interactive.Value;

    /// <summary>Marks the calls made from here on in this async flow (and the flows it starts) as a person's; an async
    /// method that marks its flow leaves its caller's unmarked.</summary>
    public static void MarkCurrentFlow() => s_interactive.Value = true;
}
