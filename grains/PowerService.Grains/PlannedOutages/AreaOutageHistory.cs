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
    /// overlap [<paramref name="since"/>, <paramref name="until"/>), most cut first. <paramref name="countPlans"/> false
    /// counts finished outages only (the indicators report what happened, not what is scheduled).
    /// <paramref name="newPlan"/>, for a plan being checked (starting at <paramref name="until"/>): it is also an
    /// earlier cut for the plans already scheduled after it, so each of those is counted over its own window with the
    /// new plan in it, and the worst window counts. Checked in any order, three plans a week apart cannot each pass.</summary>
    public async Task<IReadOnlyList<RepeatedOutageCustomer>> RepeatedCustomersAsync(
        IReadOnlyList<string> areaIds, DateTimeOffset since, DateTimeOffset until, int threshold, bool countPlans = true, NewPlan? newPlan = null)
    {
        var cuts = await Task.WhenAll(areaIds.Select(area => CountAreaAsync(area, since, until, countPlans, newPlan)));
        var candidates = cuts.Where(c => c.WholeArea + (c.ByMeter.Count == 0 ? 0 : c.ByMeter.Values.Max()) >= threshold).ToList();
        if (candidates.Count == 0)
        {
            return [];
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
        return [.. repeated.OrderByDescending(c => c.Outages).ThenBy(c => c.CustomerId, StringComparer.Ordinal)];
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
        var open = countPlans ? [.. scheduled.Values.Where(p => !finished.ContainsKey(p.PlannedOutageId))] : new List<AreaPlanEntry>();
        var (wholeArea, byMeter) = CutsIn(finished.Values, open, since, until);
        if (newPlan is { } checkedPlan)
        {
            foreach (var later in open.Where(p => p.PlannedStart > checkedPlan.Start && p.PlannedStart.AddMonths(-checkedPlan.WindowMonths) < checkedPlan.End))
            {
                var (whole, meters) = CutsIn(finished.Values, open, later.PlannedStart.AddMonths(-checkedPlan.WindowMonths), later.PlannedStart);
                wholeArea = Math.Max(wholeArea, whole + 1); // the new plan is one of that plan's earlier cuts
                foreach (var (meter, count) in meters)
                {
                    byMeter[meter] = Math.Max(byMeter.GetValueOrDefault(meter), count);
                }
            }
        }
        return new AreaCuts(areaId, wholeArea, byMeter);
    }

    /// <summary>The cuts that overlap [<paramref name="since"/>, <paramref name="until"/>): whole-area ones counted,
    /// those of some meters only (nested outages) by meter.</summary>
    private static (int WholeArea, Dictionary<string, int> ByMeter) CutsIn(
        IEnumerable<AreaOutageRecord> finished, IEnumerable<AreaPlanEntry> plans, DateTimeOffset since, DateTimeOffset until)
    {
        var wholeArea = 0;
        var byMeter = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in finished.Where(r => r.StartedAt < until && r.EndedAt > since))
        {
            if (record.MeterIds is null)
            {
                wholeArea++;
                continue;
            }
            foreach (var meter in record.MeterIds.Distinct(StringComparer.Ordinal))
            {
                byMeter[meter] = byMeter.GetValueOrDefault(meter) + 1;
            }
        }
        wholeArea += plans.Count(p => p.PlannedStart < until && p.PlannedEnd > since);
        return (wholeArea, byMeter);
    }

    private static T Deserialize<T>(StoredEvent e) =>
        JsonSerializer.Deserialize<T>(e.PayloadJson, PayloadJson) ?? throw new JsonException($"Event {e.Sequence} of {e.StreamId} holds null.");

    private sealed record AreaCuts(string AreaId, int WholeArea, IReadOnlyDictionary<string, int> ByMeter);
}

/// <summary>The plan being checked: its window and the policy's look-back in months.</summary>
internal sealed record NewPlan(DateTimeOffset Start, DateTimeOffset End, int WindowMonths);
