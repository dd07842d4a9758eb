using PowerService.Grains.Notices;

namespace PowerService.Grains.PlannedOutages;

/// <summary>The persisted state of one accepted planned outage. Immutable: a turn builds the next record and keeps the
/// old one until the write succeeds.</summary>
internal sealed record PlannedOutageRecord
{
    public bool Exists { get; init; }
    public string Id { get; init; } = "";
    public PlannedOutageKind Kind { get; init; }
    public PlannedOutageStatus Status { get; init; }
    public string? FeederId { get; init; }
    public IReadOnlyList<string> TransformerAreaIds { get; init; } = [];
    public DateTimeOffset PlannedStart { get; init; }
    public DateTimeOffset PlannedEnd { get; init; }
    public string Reason { get; init; } = "";
    public PlannedOutageImpact? Impact { get; init; }
    public IReadOnlyList<PolicyFinding> Warnings { get; init; } = [];
    public string? OverrideReason { get; init; }
    public string PlannedBy { get; init; } = "";

    /// <summary>"actor request-id" of the request that planned it, when it carried one: the same request again is
    /// answered with this plan instead of a 409.</summary>
    public string? PlannedByRequest { get; init; }
    public DateTimeOffset AcceptedAt { get; init; }
    public DateTimeOffset? ActualStart { get; init; }
    public DateTimeOffset? ActualEnd { get; init; }
    public PlannedOutageCloseOut? CloseOut { get; init; }
    public DateTimeOffset? CancelledAt { get; init; }
    public string? CancelReason { get; init; }

    /// <summary>Areas another plan still cuts in this plan's window when it was cancelled.</summary>
    public IReadOnlyList<string> AreasStillCut { get; init; } = [];

    /// <summary>Notices stored as owed with the change that calls for them and cleared once the outbox has them; an
    /// activation finding some still owed (a crash between the two) enqueues them again, which the outbox dedupes.</summary>
    public IReadOnlyList<NoticeKind> NoticesOwed { get; init; } = [];

    /// <summary>The outage on the map is still to be opened (after the start) or restored (after the close-out).</summary>
    public bool OutageOpenOwed { get; init; }
    public bool OutageRestoreOwed { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
    public int Version { get; init; }

    public PlannedOutageView ToView() => new(
        Id, Kind, Status, FeederId, TransformerAreaIds, PlannedStart, PlannedEnd, Reason, Impact!, Warnings, OverrideReason, PlannedBy,
        AcceptedAt, ActualStart, ActualEnd, ActualStart is null ? null : PlannedOutageGrain.OutageIdOf(Id), CloseOut, CancelReason, UpdatedAt, Version);
}

/// <summary>Journal event types of a planned outage (stream <see cref="JournalStreams.PlannedOutage"/>).</summary>
internal static class PlannedOutageEvents
{
    public const string Scheduled = nameof(Scheduled);
    public const string Started = nameof(Started);
    public const string Completed = nameof(Completed);
    public const string Cancelled = nameof(Cancelled);
}
