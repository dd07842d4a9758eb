using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>The one path from grains to browsers: it tails the domain journal (every change of an order or crew is a
/// journaled event), and per page it reads sends each group ONE message holding the latest view of every entity that
/// changed, however many events it had. It reads when this silo commits journal events (and polls for other silos'
/// commits), at most once per <see cref="MinPageInterval"/> unless it is catching up, so in a storm a client gets at
/// most one message per interval per feed, never one per event. Tailing the journal, not an in-process event bus,
/// keeps the feed correct when grains run on other silos.
/// Outages go the same way: dispatchers of the outage's region get its latest view, and customers get a notice through
/// the groups of the supply they are on (their transformer area, or their meter for an outage of some meters only), so
/// the feed never looks up who is affected. Planned outages reach every dispatcher as calendar rows, and
/// their customers as notices through the same area groups.</summary>
internal sealed partial class JournalFeed(
    Silo silo,
    [FromKeyedServices(ConnectionCount.Live)] ConnectionCount connections,
    IHubContext<DispatchHub> dispatch,
    IHubContext<CrewHub> crews,
    IHubContext<CustomerHub> customers,
    ILogger<JournalFeed> logger) : BackgroundService
{
    private const int PageSize = 2000;

    /// <summary>Sends to a group still unfinished after the page that made them: the group holds a connection that is
    /// not reading (see <see cref="PageSends"/>). Only this loop touches it; it holds unfinished sends only.</summary>
    private readonly Dictionary<string, Task> _lagging = new(StringComparer.Ordinal);

    /// <summary>The longest the feed waits for a page's sends before reading on (see <see cref="PublishAsync"/>).</summary>
    private static readonly TimeSpan SendWait = TimeSpan.FromMilliseconds(500);

    /// <summary>Times one page is read and sent again before it is given up.</summary>
    private const int MaxPageFailures = 2;

    /// <summary>How long the feed sleeps when nobody is connected, and how often it reads the journal when this silo
    /// appends nothing (events other silos write reach it within this time).</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(50);

    /// <summary>The shortest time between two pages that are not full: a change after a quiet spell goes out at once,
    /// and a steady stream of changes reaches each client at most once per interval and feed, however many commits
    /// the grains make.</summary>
    private static readonly TimeSpan MinPageInterval = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!silo.IsRunning)
            {
                await Task.Delay(IdlePoll, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return; // the host stopped before the silo ran (its start failed): not a fault of the feed's
        }
        var after = await silo.Storage.LastEventSequenceAsync(stoppingToken);
        var lastPage = 0L;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            long? skipTo = null; // the end of the page read, once read
            try
            {
                if (connections.Count == 0)
                {
                    // Nobody would receive a page: move to the journal's end instead of reading what is written to it.
                    after = await silo.Storage.LastEventSequenceAsync(stoppingToken);
                    await Task.Delay(IdlePoll, stoppingToken);
                    continue;
                }
                // Taken before the read, so that a commit landing between the read and the wait still wakes the feed.
                var appended = silo.JournalAppends.Next();
                var events = await silo.Storage.ReadAllEventsAsync(after, PageSize, stoppingToken);
                if (events.Count == 0)
                {
                    await Task.WhenAny(appended, Task.Delay(IdlePoll, stoppingToken));
                    await WaitOutAsync(lastPage, stoppingToken);
                    continue;
                }
                skipTo = events[^1].Sequence;
                lastPage = Stopwatch.GetTimestamp();
                await PublishAsync(events, stoppingToken);
                // Only once published: a page that failed is read and sent again (clients keep an entity's newest version).
                after = events[^1].Sequence;
                failures = 0;
                if (events.Count < PageSize)
                {
                    // Caught up: what commits next waits out the interval (a full page reads on at once, to catch up).
                    await WaitOutAsync(lastPage, stoppingToken);
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested || !silo.IsRunning)
            {
                // Shutting down: grains and the store stop answering; nothing left to publish.
                return;
            }
            catch (Exception error)
            {
                // A store hiccup or a grain that could not answer: log, wait, read the same page again. A page that fails
                // every time is given up, so that one broken entity does not stop every live view.
                if (++failures >= MaxPageFailures && skipTo is { } skip)
                {
                    LogPageSkipped(logger, error, after, skip);
                    after = skip;
                    failures = 0;
                }
                else
                {
                    LogFeedFailed(logger, error);
                }
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private static Task WaitOutAsync(long lastPage, CancellationToken cancellationToken)
    {
        var left = MinPageInterval - Stopwatch.GetElapsedTime(lastPage);
        return left > TimeSpan.Zero ? Task.Delay(left, cancellationToken) : Task.CompletedTask;
    }

    private async Task PublishAsync(IReadOnlyList<Runtime.Storage.StoredEvent> events, CancellationToken cancellationToken)
    {
        var orderEvents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var crewIds = new HashSet<string>(StringComparer.Ordinal);
        var outageIds = new HashSet<string>(StringComparer.Ordinal);
        var plannedIds = new HashSet<string>(StringComparer.Ordinal);
        var slaEvents = new List<(string OrderId, Runtime.Storage.StoredEvent Event)>();
        var leftCrews = new List<(string OrderId, string CrewId)>();
        var movedCrews = new List<(string CrewId, string FromRegion)>();
        foreach (var e in events)
        {
            if (JournalStreams.TryOrder(e.StreamId, out var orderId))
            {
                if (!orderEvents.TryGetValue(orderId, out var types))
                {
                    orderEvents[orderId] = types = [];
                }
                types.Add(e.EventType);
                if (PreviousCrew(e) is { } previous)
                {
                    leftCrews.Add((orderId, previous));
                }
                if (e.EventType is WorkOrderEvents.SlaWarned or WorkOrderEvents.SlaBreached or WorkOrderEvents.VisitUnanswered or WorkOrderEvents.VisitCalledOff
                    or WorkOrderEvents.Escalated)
                {
                    slaEvents.Add((orderId, e));
                }
            }
            else if (JournalStreams.TryCrew(e.StreamId, out var crewId))
            {
                crewIds.Add(crewId);
                if (MovedFrom(e) is { } from)
                {
                    movedCrews.Add((crewId, from));
                }
            }
            else if (JournalStreams.TryOutage(e.StreamId, out var outageId))
            {
                outageIds.Add(outageId);
            }
            else if (JournalStreams.TryPlannedOutage(e.StreamId, out var plannedId))
            {
                plannedIds.Add(plannedId);
            }
        }

        var orderViewsRead = Task.WhenAll(orderEvents.Keys.Select(id => silo.GetGrain<IWorkOrderGrain>(id).Get()));
        var crewViewsRead = Task.WhenAll(crewIds.Select(id => silo.GetGrain<IFieldCrewGrain>(id).Get()));
        var outageViewsRead = Task.WhenAll(outageIds.Select(id => silo.GetGrain<IOutageGrain>(id).Get()));
        var plannedViewsRead = Task.WhenAll(plannedIds.Select(id => silo.GetGrain<IPlannedOutageGrain>(id).Get()));
        var orderViews = await orderViewsRead;
        var crewViews = await crewViewsRead;
        var outages = (await outageViewsRead).OfType<OutageView>().ToList();
        var planned = (await plannedViewsRead).OfType<PlannedOutageView>().Select(PlannedOutageSummary.Of).ToList();

        var updates = orderViews.OfType<WorkOrderView>().Select(view => new OrderUpdate(view, orderEvents[view.Id])).ToList();
        // A console draws list rows: its connections get the row (392 bytes against the order's 771 for a new fault;
        // serialized once, but sent and parsed per connection); a PDA and a customer get the whole order.
        var rows = updates.Select(u => new OrderRowUpdate(WorkOrderSummary.Of(u.Order), u.Events)).ToList();
        var crewUpdates = crewViews.OfType<CrewView>().ToList();
        var sends = new PageSends(_lagging);
        foreach (var region in rows.GroupBy(u => u.Order.Region))
        {
            sends.Add(dispatch, LiveGroups.Region(region.Key), "orders", region.ToList(), cancellationToken);
        }
        foreach (var region in crewUpdates.GroupBy(c => c.Profile.Region))
        {
            sends.Add(dispatch, LiveGroups.Region(region.Key), "crews", region.ToList(), cancellationToken);
        }
        // A crew moved to another region: the consoles of the region it left hear it too (its region says where it went),
        // and let it go; they went on offering it as one of theirs until reloaded.
        foreach (var left in movedCrews.Distinct().GroupBy(m => m.FromRegion, m => m.CrewId))
        {
            var gone = crewUpdates.Where(c => left.Contains(c.Id) && c.Profile.Region != left.Key).ToList();
            if (gone.Count > 0)
            {
                sends.Add(dispatch, LiveGroups.Region(left.Key), "crews", gone, cancellationToken);
            }
        }
        if (rows.Count > 0)
        {
            sends.Add(dispatch, LiveGroups.AllRegions, "orders", rows, cancellationToken);
        }
        if (crewUpdates.Count > 0)
        {
            sends.Add(dispatch, LiveGroups.AllRegions, "crews", crewUpdates, cancellationToken);
        }
        // The crew holding the order, and a crew it was taken from (reassigned, reopened): its PDA drops it at once.
        var byId = updates.ToDictionary(u => u.Order.Id, StringComparer.Ordinal);
        var toCrews = updates.Where(u => u.Order.CrewId is not null).Select(u => (CrewId: u.Order.CrewId!, Update: u))
            .Concat(leftCrews.Where(l => byId.ContainsKey(l.OrderId) && byId[l.OrderId].Order.CrewId != l.CrewId).Select(l => (l.CrewId, Update: byId[l.OrderId])))
            .Distinct();
        foreach (var crew in toCrews.GroupBy(c => c.CrewId, c => c.Update))
        {
            sends.Add(crews, LiveGroups.Crew(crew.Key), "orders", crew.ToList(), cancellationToken);
        }
        foreach (var crew in crewUpdates)
        {
            sends.Add(crews, LiveGroups.Crew(crew.Id), "crew", crew, cancellationToken);
        }
        foreach (var customer in updates.Where(u => u.Order.CustomerId is not null).GroupBy(u => u.Order.CustomerId!))
        {
            // A customer sees the progress of their orders, not the journal's internal event names.
            sends.Add(customers, LiveGroups.Customer(customer.Key), "orders", customer.Select(u => u.Order).ToList(), cancellationToken);
        }
        SendOutages(outages, sends, cancellationToken);
        if (planned.Count > 0)
        {
            // The calendar is every dispatcher's, whatever region they watch: a few changes a day.
            sends.Add(dispatch, LiveGroups.Dispatchers, "plannedOutages", planned, cancellationToken);
        }
        foreach (var plan in planned)
        {
            // Each customer on the plan's supply hears of it (scheduled, moved under way, completed, called off).
            sends.Add(customers, [.. plan.TransformerAreaIds.Select(LiveGroups.Area)], "plannedOutage", PlannedOutageNotice.Of(plan), cancellationToken);
        }
        SendSlaAlerts(slaEvents, updates, sends, cancellationToken);
        await sends.WaitAsync(SendWait, cancellationToken);
    }

    /// <summary>The crew an order event says the order left: <c>previousCrew</c> of a reassignment, a reopening or a
    /// booked visit moved to another crew,
    /// <c>crewId</c> of an offer rejected or lapsed (a crew gone off shift hands its offers back: its other devices drop them).</summary>
    /// <summary>The region a crew's registration moved it from, if it did.</summary>
    private static string? MovedFrom(Runtime.Storage.StoredEvent e) =>
        StringField(e, e.EventType == "CrewRegistered" ? "MovedFrom" : null);

    private static string? PreviousCrew(Runtime.Storage.StoredEvent e) => StringField(e, e.EventType switch
    {
        WorkOrderEvents.Dispatched or WorkOrderEvents.Reopened or WorkOrderEvents.Reserved => "previousCrew",
        WorkOrderEvents.Rejected or WorkOrderEvents.OfferExpired or WorkOrderEvents.OfferWithdrawn => "crewId",
        _ => null,
    });

    /// <summary>The string <paramref name="field"/> of the event's payload; the payload is parsed only when its text
    /// holds the field with a string value (most events do not).</summary>
    private static string? StringField(Runtime.Storage.StoredEvent e, string? field)
    {
        if (field is null || !e.PayloadJson.Contains($"\"{field}\":\"", StringComparison.Ordinal))
        {
            return null;
        }
        using var payload = JsonDocument.Parse(e.PayloadJson);
        return payload.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private void SendOutages(List<OutageView> outages, PageSends sends, CancellationToken cancellationToken)
    {
        foreach (var region in outages.GroupBy(o => o.Region))
        {
            sends.Add(dispatch, LiveGroups.Region(region.Key), "outages", region.ToList(), cancellationToken);
        }
        if (outages.Count > 0)
        {
            sends.Add(dispatch, LiveGroups.AllRegions, "outages", outages, cancellationToken);
        }
        foreach (var outage in outages)
        {
            // An outage of some meters only (nested) reaches those meters' customers; any other, every customer of its areas.
            var supply = outage.MeterIds is { } meters ? meters.Select(LiveGroups.Meter) : outage.TransformerAreaIds.Select(LiveGroups.Area);
            sends.Add(customers, [.. supply], "outage", OutageNotice.Of(outage), cancellationToken);
        }
    }

    /// <summary>SLA warnings and breaches, and booked visits left unanswered or called off by their crew, of the orders in
    /// this page, to the dispatchers of each order's region.</summary>
    private void SendSlaAlerts(
        List<(string OrderId, Runtime.Storage.StoredEvent Event)> slaEvents, List<OrderUpdate> updates, PageSends sends, CancellationToken cancellationToken)
    {
        if (slaEvents.Count == 0)
        {
            return;
        }
        var orders = updates.ToDictionary(u => u.Order.Id, u => u.Order, StringComparer.Ordinal);
        var alerts = new List<SlaAlert>();
        foreach (var (orderId, e) in slaEvents)
        {
            if (orders.TryGetValue(orderId, out var order))
            {
                var alert = JsonSerializer.Deserialize<AlertPayload>(e.PayloadJson, PayloadJson);
                if (e.EventType == WorkOrderEvents.Escalated && alert?.Level != nameof(EscalationLevel.RegionSupervisor))
                {
                    continue; // the grid manager's escalation comes with the breach, which is told already
                }
                // The region supervisor's (a clock still running at 150 % of its limit) was only journaled: no page told anyone.
                alerts.Add(new SlaAlert(orderId, order.Region, e.EventType, alert?.Clock, alert?.DueAt ?? alert?.SlotStart, e.OccurredAt, alert?.CrewId ?? order.CrewId, alert?.Level));
            }
        }
        foreach (var region in alerts.GroupBy(a => a.Region))
        {
            sends.Add(dispatch, LiveGroups.Region(region.Key), "sla", region.ToList(), cancellationToken);
        }
        if (alerts.Count > 0)
        {
            sends.Add(dispatch, LiveGroups.AllRegions, "sla", alerts, cancellationToken);
        }
    }

    /// <summary>One page's sends, and which of them the feed waits for. Waiting for a page's sends before reading the next
    /// is what coalesces (what changes meanwhile goes out as one message). A send to a group finishes when every
    /// connection in it has taken the message, and a connection that stops reading (a laptop lid closed on a console)
    /// holds its group's sends until the server drops it, 5 s later. So the wait is per group: a group whose send of an
    /// earlier page is still unfinished is not waited for again — its other connections get each message at once, the
    /// stuck one's wait in its own write queue, in order — and every other group keeps its pace. Only the page on which
    /// a group first falls behind is waited for, at most <see cref="SendWait"/>.</summary>
    private sealed class PageSends(Dictionary<string, Task> lagging)
    {
        private readonly List<(string Group, Task Send)> _waited = [];

        public void Add<THub>(IHubContext<THub> hub, string group, string method, object payload, CancellationToken cancellationToken)
            where THub : Hub =>
            Track($"{typeof(THub).Name} {group}", hub.Clients.Group(group).SendAsync(method, payload, cancellationToken));

        public void Add<THub>(IHubContext<THub> hub, IReadOnlyList<string> groups, string method, object payload, CancellationToken cancellationToken)
            where THub : Hub =>
            Track($"{typeof(THub).Name} {string.Join(' ', groups)}", hub.Clients.Groups(groups).SendAsync(method, payload, cancellationToken));

        private void Track(string group, Task send)
        {
            if (send.IsCompleted)
            {
                _waited.Add((group, send)); // a failure is the page's (as for a send that finishes while waited for)
            }
            else if (lagging.TryGetValue(group, out var earlier) && !earlier.IsCompleted)
            {
                lagging[group] = send; // behind already: the newest send finishes last (a connection writes in order)
                Observe(send);
            }
            else
            {
                _waited.Add((group, send));
            }
        }

        public async Task WaitAsync(TimeSpan longest, CancellationToken cancellationToken)
        {
            if (_waited.Count > 0)
            {
                var sent = Task.WhenAll(_waited.Select(w => w.Send));
                if (!sent.IsCompleted)
                {
                    await Task.WhenAny(sent, Task.Delay(longest, cancellationToken));
                }
                if (!sent.IsCompleted)
                {
                    Observe(sent);
                }
                foreach (var (group, send) in _waited.Where(w => !w.Send.IsCompleted))
                {
                    lagging[group] = send;
                }
                if (sent.IsFaulted || sent.IsCanceled)
                {
                    await sent; // a send that failed fails the page, which is read and sent again
                }
            }
            foreach (var group in lagging.Where(l => l.Value.IsCompleted).Select(l => l.Key).ToList())
            {
                lagging.Remove(group);
            }
        }

        /// <summary>A send no longer waited for that fails has nothing left to tell the feed: observed, not left unobserved.</summary>
        private static void Observe(Task send) =>
            send.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web);

    /// <summary>What an alert takes from its event: an SLA event's clock and due time; a visit event's slot and booked crew
    /// (called off, the order no longer names it).</summary>
    private sealed record AlertPayload(string? Clock, DateTimeOffset? DueAt, DateTimeOffset? SlotStart, string? CrewId, string? Level);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The live feed could not publish a page of journal events; retrying")]
    private static partial void LogFeedFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The live feed gave up the journal events after {After} through {Through}: they failed to publish twice; live views miss them until their next change")]
    private static partial void LogPageSkipped(ILogger logger, Exception error, long after, long through);
}

/// <summary>One changed order with the types of the events that changed it since the last message.</summary>
public sealed record OrderUpdate(WorkOrderView Order, IReadOnlyList<string> Events);

/// <summary>One changed order as a dispatch console's list row (the shape of <c>GET /api/work-orders</c> items), with
/// the types of the events that changed it since the last message.</summary>
public sealed record OrderRowUpdate(WorkOrderSummary Order, IReadOnlyList<string> Events);

/// <summary>An order's SLA clock warned (<c>SlaWarned</c>) or breached (<c>SlaBreached</c>) at <paramref name="At"/>, or its
/// booked visit went unanswered (<c>VisitUnanswered</c>) or was called off (<c>VisitCalledOff</c>) by crew
/// <paramref name="CrewId"/>: then <paramref name="Clock"/> is null and <paramref name="DueAt"/> is the slot's start.</summary>
/// <param name="Level">For an escalation: whom it reached (<c>RegionSupervisor</c>).</param>
public sealed record SlaAlert(string OrderId, string Region, string Alert, string? Clock, DateTimeOffset? DueAt, DateTimeOffset At, string? CrewId, string? Level = null);

/// <summary>What an affected customer is told of an outage: not who else is out, nor which crew works on it.</summary>
public sealed record OutageNotice(
    string Id,
    OutageKind Kind,
    OutageState State,
    string? Cause,
    DateTimeOffset StartedAt,
    DateTimeOffset? EstimatedRestorationAt,
    DateTimeOffset? RestoredAt,
    string? ParentOutageId,
    int Version)
{
    /// <summary>On a restored outage read by one customer: their own meter is still dark (their supply is not back with
    /// the area's; a nested outage may open for it). Null on the hub's notices, which go to a whole area.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? SupplyStillOff { get; init; }

    public static OutageNotice Of(OutageView outage) => new(
        outage.Id, outage.Kind, outage.State, outage.Cause, outage.StartedAt, outage.EstimatedRestorationAt, outage.RestoredAt,
        outage.ParentOutageId, outage.Version);
}

/// <summary>What a customer is told of a planned outage on their supply (the calendar row without who else is cut).</summary>
public sealed record PlannedOutageNotice(
    string Id, PlannedOutageKind Kind, PlannedOutageStatus Status, DateTimeOffset PlannedStart, DateTimeOffset PlannedEnd, string Reason,
    DateTimeOffset? ActualStart, DateTimeOffset? ActualEnd, int Version, string? CancelReason = null)
{
    public static PlannedOutageNotice Of(PlannedOutageSummary p) =>
        new(p.Id, p.Kind, p.Status, p.PlannedStart, p.PlannedEnd, p.Reason, p.ActualStart, p.ActualEnd, p.Version, p.CancelReason);
}
