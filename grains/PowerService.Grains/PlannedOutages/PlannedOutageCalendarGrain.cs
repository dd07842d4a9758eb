using PowerService.Runtime;

namespace PowerService.Grains.PlannedOutages;

/// <summary>The planned-outage calendar (key: <see cref="PlannedOutageCalendarGrain.Key"/>): one summary per planned
/// outage still to come or under way, and the most recently finished ones, so a dispatcher sees what is scheduled on a
/// feeder or area before planning more. Planned outages report each stored change; the calendar never scans. Written
/// behind: the planned outages themselves are durable and report again on their next change.</summary>
public interface IPlannedOutageCalendarGrain : IGrain
{
    /// <summary>The one calendar's key.</summary>
    const string Key = "all";

    /// <summary>One-way: a planned outage's change is done once stored; the calendar is a view of it.</summary>
    [OneWay]
    Task Update(PlannedOutageSummary summary);

    /// <summary>One page: upcoming (scheduled or in progress) soonest first, or finished (completed or cancelled)
    /// latest first.</summary>
    Task<PlannedOutagePage> List(PlannedOutageQuery query);

    /// <summary>Plans one outage (<see cref="IPlannedOutageGrain.Plan"/>) as the calendar's turn: plans are accepted one
    /// at a time, so each checks the policy against every plan accepted before it. Sent side by side, three plans for
    /// the same customers each passed the repeated-outage rule on a history that had none of the others.</summary>
    Task<PlannedOutagePlan> Plan(string plannedOutageId, PlannedOutageRequest request, bool dryRun);
}

/// <summary><paramref name="From"/>/<paramref name="To"/>: only plans whose planned window overlaps [from, to).
/// <paramref name="FeederId"/>: plans naming the feeder, and plans naming any of <paramref name="FeederAreaIds"/> (the
/// feeder's transformer areas), so a feeder's calendar shows the work on its areas too. <paramref name="ContinuationToken"/>:
/// where the page starts (<see cref="ListPosition"/>), the last page's token.</summary>
public sealed record PlannedOutageQuery(
    bool Upcoming = true, string? FeederId = null, string? TransformerAreaId = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Skip = 0, int Take = 100,
    IReadOnlyList<string>? FeederAreaIds = null, string? ContinuationToken = null);

/// <summary>A page of the calendar; <paramref name="ContinuationToken"/> null on the last page.</summary>
public sealed record PlannedOutagePage(int Total, IReadOnlyList<PlannedOutageSummary> Items, string? ContinuationToken = null);

/// <summary>What the calendar shows of one planned outage.</summary>
public sealed record PlannedOutageSummary(
    string Id,
    PlannedOutageKind Kind,
    PlannedOutageStatus Status,
    string? FeederId,
    IReadOnlyList<string> TransformerAreaIds,
    DateTimeOffset PlannedStart,
    DateTimeOffset PlannedEnd,
    string Reason,
    int AffectedCustomers,
    int ImportantCustomers,
    DateTimeOffset? ActualStart,
    DateTimeOffset? ActualEnd,
    int Version,
    /// <summary>Why it was called off (told to its customers), for a cancelled plan.</summary>
    string? CancelReason = null)
{
    internal static PlannedOutageSummary Of(PlannedOutageRecord o) => new(
        o.Id, o.Kind, o.Status, o.FeederId, o.TransformerAreaIds, o.PlannedStart, o.PlannedEnd, o.Reason,
        o.Impact?.AffectedCustomers ?? 0, o.Impact?.ImportantCustomers.Count ?? 0, o.ActualStart, o.ActualEnd, o.Version, o.CancelReason);

    /// <summary>The calendar row of a planned outage's view (what the live feed sends the consoles).</summary>
    public static PlannedOutageSummary Of(PlannedOutageView o) => new(
        o.Id, o.Kind, o.Status, o.FeederId, o.TransformerAreaIds, o.PlannedStart, o.PlannedEnd, o.Reason,
        o.Impact.AffectedCustomers, o.Impact.ImportantCustomers.Count, o.ActualStart, o.ActualEnd, o.Version, o.CancelReason);

    public bool IsFinished => Status is PlannedOutageStatus.Completed or PlannedOutageStatus.Cancelled;
}

[GrainType("PlannedOutageCalendar")]
internal sealed class PlannedOutageCalendarGrain(IPersistentState<PlannedOutageCalendarRecord> state) : Grain, IPlannedOutageCalendarGrain
{
    /// <summary>Finished planned outages kept for the list after they end.</summary>
    private const int FinishedKept = 2_000;
    private const int MaxTake = 1_000;
    private static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(1);

    private WriteBehind _calendar = null!;

    private PlannedOutageCalendarRecord Calendar => state.State;

    // The planned outage tells the calendar of its change one-way, queued behind this turn: no call cycle.
    public Task<PlannedOutagePlan> Plan(string plannedOutageId, PlannedOutageRequest request, bool dryRun) =>
        GrainFactory.GetGrain<IPlannedOutageGrain>(plannedOutageId).Plan(request, dryRun);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _calendar = new WriteBehind(() => state.WriteStateAsync(), RegisterTimer, FlushDelay);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _calendar.FlushAsync();

    public Task Update(PlannedOutageSummary summary)
    {
        var held = Calendar.Upcoming.GetValueOrDefault(summary.Id) ?? Calendar.Finished.Find(f => f.Id == summary.Id);
        if (held is not null && held.Version > summary.Version)
        {
            return Task.CompletedTask; // reports may arrive out of order; the newer one stands
        }
        Calendar.Upcoming.Remove(summary.Id);
        if (summary.IsFinished)
        {
            Boards.AddFinished(Calendar.Finished, summary, f => f.Id == summary.Id, FinishedKept);
        }
        else
        {
            Calendar.Finished.RemoveAll(f => f.Id == summary.Id);
            Calendar.Upcoming[summary.Id] = summary;
        }
        _calendar.Changed();
        return Task.CompletedTask;
    }

    public Task<PlannedOutagePage> List(PlannedOutageQuery query)
    {
        Boards.CheckPage(query.Skip, query.Take, MaxTake);
        if (query.From is { } from && query.To is { } to && to <= from)
        {
            throw new InvalidFieldException("to", "to must be after from.");
        }
        var matching = (query.Upcoming ? Calendar.Upcoming.Values : (IEnumerable<PlannedOutageSummary>)Calendar.Finished)
            .Where(p => query.FeederId is null || p.FeederId == query.FeederId || (query.FeederAreaIds?.Any(p.TransformerAreaIds.Contains) ?? false))
            .Where(p => query.TransformerAreaId is null || p.TransformerAreaIds.Contains(query.TransformerAreaId))
            .Where(p => (query.From is null || p.PlannedEnd > query.From) && (query.To is null || p.PlannedStart < query.To));
        var ordered = (query.Upcoming ? matching.OrderBy(p => p.PlannedStart) : matching.OrderByDescending(p => p.PlannedStart))
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .ToList();
        var (items, next) = ListPosition.Page(
            ordered, p => new ListPosition(query.Upcoming ? p.PlannedStart.UtcTicks : ListPosition.Newest(p.PlannedStart), p.Id), query.ContinuationToken, query.Skip, query.Take);
        return Task.FromResult(new PlannedOutagePage(ordered.Count, items, next));
    }
}

internal sealed class PlannedOutageCalendarRecord
{
    public Dictionary<string, PlannedOutageSummary> Upcoming { get; set; } = new(StringComparer.Ordinal);
    public List<PlannedOutageSummary> Finished { get; set; } = [];
}
