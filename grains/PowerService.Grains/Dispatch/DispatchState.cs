namespace PowerService.Grains.Dispatch;

/// <summary>What a dispatch grain stores (write-behind): the roster as last reported, so a restart does not forget crews
/// that have not reported since, and the backlog in arrival order.</summary>
internal sealed class DispatchState
{
    public Dictionary<string, CrewSnapshot> Crews { get; set; } = new(StringComparer.Ordinal);

    public List<BacklogEntry> Backlog { get; set; } = [];

    public bool StormMode { get; set; }

    /// <summary>Decisions made so far; saved along with the next roster or backlog change.</summary>
    public long Decisions { get; set; }
}

internal sealed record BacklogEntry(DispatchRequest Request, DateTimeOffset QueuedAt);
