using System.Text.Json;
using System.Text.Json.Serialization;
using PowerService.Grains.Outages;
using PowerService.Grains.Topology;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.PlannedOutages;

/// <summary>Planned outages scheduled on an area and not yet finished, journaled on the area's stream next to the
/// finished outages (<see cref="AreaOutageRecord"/>): a plan counts the cuts already promised to the same customers,
/// so three plans scheduled a week apart cannot each pass the repeated-outage rule on an empty history.</summary>
internal static class AreaPlanEvents
{
    public const string Scheduled = "PlannedOutageScheduled";
    public const string Cancelled = "PlannedOutageCancelled";
}

internal sealed record AreaPlanEntry(string PlannedOutageId, DateTimeOffset PlannedStart, DateTimeOffset PlannedEnd);

/// <summary>Counts, per customer of some transformer areas, the outages that cut them within a window: finished
/// outages of every kind (whole-area records count for every customer of the area, meter records for the customers on
/// those meters) and planned outages scheduled to start in the window. One journal read per area, all areas at once;
/// customers are read from the catalog only for areas where someone can reach the threshold.</summary>
internal sealed class AreaOutageHistory(IJournal journal, ICatalog catalog)
{
    private const int PageSize = 1_000;

    // Case-insensitive names and enums by name or number: finished outages are written by other grains.
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize<T>(T payload) => JsonSerializer.Serialize(payload, PayloadJson);

    /// <summary>Customers of <paramref name="areaIds"/> cut at least <paramref name="threshold"/> times by outages that
    /// overlap [<paramref name="since"/>, <paramref name="until"/>), most cut first; and, for a plan being checked, the
    /// plans already scheduled on its areas over its own window. Outages of a whole area that overlap each other (a
    /// feeder plan and a plan of one of its areas at the same hours) cut its customers once, and count once.
    /// <paramref name="countPlans"/> false counts what happened (the indicators): finished outages that ended in the
    /// window, as the period's other outage figures count them, and no plans.
    /// <paramref name="newPlan"/>, for a plan being checked (starting at <paramref name="until"/>): it is also an
    /// earlier cut for the plans already scheduled after it, so each of those is counted over its own window with the
    /// new plan in it, and the worst window counts. Checked in any order, three plans a week apart cannot each pass.</summary>
    public async Task<RepeatedOutageCount> RepeatedCustomersAsync(
        IReadOnlyList<string> areaIds, DateTimeOffset since, DateTimeOffset until, int threshold, bool countPlans = true, NewPlan? newPlan = null)
    {
        var cuts = await Task.WhenAll(areaIds.Select(area => CountAreaAsync(area, since, until, countPlans, newPlan)));
        var overlapping = cuts.SelectMany(c => c.OverlappingPlans).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var candidates = cuts.Where(c => c.WholeArea + (c.ByMeter.Count == 0 ? 0 : c.ByMeter.Values.Max()) >= threshold).ToList();
        if (candidates.Count == 0)
        {
            return new RepeatedOutageCount([], overlapping);
        }
        var meters = await catalog.ReadChildrenAsync(TopologyKinds.Meter, [.. candidates.Select(c => c.AreaId)]);
        var areaOfMeter = meters.ToDictionary(m => m.Key, m => m.ParentKey!, StringComparer.Ordinal);
        var byArea = candidates.ToDictionary(c => c.AreaId, StringComparer.Ordinal);
        var customers = meters.Count == 0 ? [] : await catalog.ReadChildrenAsync(TopologyKinds.Customer, [.. areaOfMeter.Keys]);
        var repeated = new List<RepeatedOutageCustomer>();
        foreach (var customer in customers)
        {
            var meter = customer.ParentKey!;
            var area = byArea[areaOfMeter[meter]];
            var count = area.WholeArea + area.ByMeter.GetValueOrDefault(meter);
            if (count >= threshold)
            {
                repeated.Add(new RepeatedOutageCustomer(customer.Key, meter, area.AreaId, count));
            }
        }
        return new RepeatedOutageCount([.. repeated.OrderByDescending(c => c.Outages).ThenBy(c => c.CustomerId, StringComparer.Ordinal)], overlapping);
    }

    private async Task<AreaCuts> CountAreaAsync(string areaId, DateTimeOffset since, DateTimeOffset until, bool countPlans, NewPlan? newPlan)
    {
        // By outage id: a finished record replaces the plan it closes out, a cancellation removes the plan.
        var finished = new Dictionary<string, AreaOutageRecord>(StringComparer.Ordinal);
        var scheduled = new Dictionary<string, AreaPlanEntry>(StringComparer.Ordinal);
        var stream = JournalStreams.Area(areaId);
        long after = 0;
        while (true)
        {
            var page = await journal.ReadStreamAsync(stream, after, PageSize);
            foreach (var e in page)
            {
                switch (e.EventType)
                {
                    case AreaOutageRecord.EventType:
                        var record = Deserialize<AreaOutageRecord>(e);
                        finished[record.OutageId] = record;
                        break;
                    case AreaPlanEvents.Scheduled:
                        var plan = Deserialize<AreaPlanEntry>(e);
                        scheduled[plan.PlannedOutageId] = plan;
                        break;
                    case AreaPlanEvents.Cancelled:
                        scheduled.Remove(Deserialize<AreaPlanEntry>(e).PlannedOutageId);
                        break;
                }
            }
            if (page.Count < PageSize)
            {
                break;
            }
            after = page[^1].Sequence;
        }
        if (newPlan is not null)
        {
            scheduled.Remove(newPlan.Id); // the plan itself, sent again
        }
        var open = countPlans ? [.. scheduled.Values.Where(p => !finished.ContainsKey(p.PlannedOutageId))] : new List<AreaPlanEntry>();
        var records = countPlans ? finished.Values : finished.Values.Where(r => r.EndedAt <= until);
        var (wholeArea, byMeter) = CutsIn(records, open, since, until, newPlan);
        if (newPlan is { } checkedPlan)
        {
            foreach (var later in open.Where(p => p.PlannedStart > checkedPlan.Start && p.PlannedStart.AddMonths(-checkedPlan.WindowMonths) < checkedPlan.End))
            {
                var (whole, meters) = CutsIn(records, open, later.PlannedStart.AddMonths(-checkedPlan.WindowMonths), later.PlannedStart, checkedPlan);
                wholeArea = Math.Max(wholeArea, whole);
                foreach (var (meter, count) in meters)
                {
                    byMeter[meter] = Math.Max(byMeter.GetValueOrDefault(meter), count);
                }
            }
        }
        List<string> overlapping = newPlan is { } planned
            ? [.. open.Where(p => p.PlannedStart < planned.End && p.PlannedEnd > planned.Start).Select(p => p.PlannedOutageId)]
            : [];
        return new AreaCuts(areaId, wholeArea, byMeter, overlapping);
    }

    /// <summary>The cuts that overlap [<paramref name="since"/>, <paramref name="until"/>): whole-area ones counted,
    /// those of some meters only (nested and partial outages) by meter, where no whole-area cut overlaps them. Whole-area outages and plans that overlap each other are one
    /// interruption. <paramref name="checkedPlan"/> joins them: inside the window it is one more cut (an earlier cut of
    /// a later plan); at the window's end it is the cut being checked, so what overlaps it is that same cut, not an
    /// earlier one.</summary>
    private static (int WholeArea, Dictionary<string, int> ByMeter) CutsIn(
        IEnumerable<AreaOutageRecord> finished, IEnumerable<AreaPlanEntry> plans, DateTimeOffset since, DateTimeOffset until, NewPlan? checkedPlan)
    {
        var meterCuts = new Dictionary<string, List<(DateTimeOffset Start, DateTimeOffset End)>>(StringComparer.Ordinal);
        var whole = new List<(DateTimeOffset Start, DateTimeOffset End, bool Checked)>();
        foreach (var record in finished.Where(r => r.StartedAt < until && r.EndedAt > since))
        {
            if (record.MeterIds is null)
            {
                whole.Add((record.StartedAt, record.EndedAt, false));
                continue;
            }
            foreach (var meter in record.MeterIds.Distinct(StringComparer.Ordinal))
            {
                (meterCuts.TryGetValue(meter, out var cuts) ? cuts : meterCuts[meter] = []).Add((record.StartedAt, record.EndedAt));
            }
        }
        whole.AddRange(plans.Where(p => p.PlannedStart < until && p.PlannedEnd > since).Select(p => (p.PlannedStart, p.PlannedEnd, false)));
        if (checkedPlan is { } c && c.Start < c.End)
        {
            whole.Add((c.Start, c.End, true));
        }
        // One pass over the intervals by start: a new group begins where none of the earlier ones still runs.
        var wholeArea = 0;
        var groupEnd = DateTimeOffset.MinValue;
        var inGroup = false;
        var groupIsTheCheckedCut = false;
        foreach (var (start, end, isChecked) in whole.OrderBy(i => i.Start))
        {
            if (!inGroup || start >= groupEnd)
            {
                wholeArea += inGroup && !groupIsTheCheckedCut ? 1 : 0;
                (inGroup, groupIsTheCheckedCut, groupEnd) = (true, false, end);
            }
            groupEnd = end > groupEnd ? end : groupEnd;
            groupIsTheCheckedCut |= isChecked && checkedPlan!.Start >= until;
        }
        wholeArea += inGroup && !groupIsTheCheckedCut ? 1 : 0;
        // A cut of some meters that overlaps a whole-area one is the same interruption for them (a partial outage the
        // area's outage then took in, a nested outage dark since during its parent), as the indicators count it; and a
        // meter's own cuts that overlap each other are one. Counted apart, 5 customers cut twice were "cut 3 times".
        var byMeter = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (meter, cuts) in meterCuts)
        {
            var count = 0;
            var end = DateTimeOffset.MinValue;
            foreach (var cut in cuts.OrderBy(c => c.Start))
            {
                if (whole.Any(w => w.Start < cut.End && cut.Start < w.End))
                {
                    continue;
                }
                count += count == 0 || cut.Start >= end ? 1 : 0;
                end = cut.End > end ? cut.End : end;
            }
            if (count > 0)
            {
                byMeter[meter] = count;
            }
        }
        return (wholeArea, byMeter);
    }

    private static T Deserialize<T>(StoredEvent e) =>
        JsonSerializer.Deserialize<T>(e.PayloadJson, PayloadJson) ?? throw new JsonException($"Event {e.Sequence} of {e.StreamId} holds null.");

    private sealed record AreaCuts(string AreaId, int WholeArea, IReadOnlyDictionary<string, int> ByMeter, IReadOnlyList<string> OverlappingPlans);
}

/// <summary>The plan being checked: its id, window and the policy's look-back in months.</summary>
internal sealed record NewPlan(string Id, DateTimeOffset Start, DateTimeOffset End, int WindowMonths);

/// <summary>The customers cut too often, and the plans already scheduled over the checked plan's window.</summary>
internal sealed record RepeatedOutageCount(IReadOnlyList<RepeatedOutageCustomer> Customers, IReadOnlyList<string> OverlappingPlans);
