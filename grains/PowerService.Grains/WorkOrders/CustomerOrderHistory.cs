using System.Text.Json;
using System.Text.Json.Serialization;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.WorkOrders;

/// <summary>A customer's finished orders, for "Your requests". The region's order list keeps only its last
/// <see cref="Regions.OpenOrdersGrain.FinishedKept"/> finished orders, which a storm's merged calls push out within
/// minutes (a customer's fault report folded into an outage vanished from their page while the outage was still on);
/// so each order, when it finishes, journals its summary on its customer's stream (<c>customer:{id}</c>) in the same
/// write as its own events — no extra round trip, nothing to lose in between. A customer's list reads that stream only
/// when it asks for a finished state.</summary>
internal static class CustomerOrderHistory
{
    public const string Finished = "OrderFinished";

    /// <summary>How long a finished order stays listed for its customer.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromDays(90);

    // The stream is read a page at a time; a customer's orders over years stay within a few pages.
    private const int PageSize = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The journal entry for <paramref name="order"/>, which has just finished and has a customer.</summary>
    public static JournalEvent Entry(WorkOrderSummary order, DateTimeOffset at) =>
        new(JournalStreams.Customer(order.CustomerId!), Finished, at, null, null, JsonSerializer.Serialize(order, Json));

    /// <summary>The customer's orders finished within <see cref="Kept"/> of <paramref name="now"/>, each as it last
    /// finished (an order reopened and finished again was journaled twice).</summary>
    public static async Task<List<WorkOrderSummary>> ReadAsync(IJournal journal, string customerId, DateTimeOffset now)
    {
        var stream = JournalStreams.Customer(customerId);
        var latest = new Dictionary<string, WorkOrderSummary>(StringComparer.Ordinal);
        long after = 0;
        while (true)
        {
            var page = await journal.ReadStreamAsync(stream, after, PageSize);
            foreach (var e in page)
            {
                if (e.EventType == Finished && JsonSerializer.Deserialize<WorkOrderSummary>(e.PayloadJson, Json) is { } order)
                {
                    latest[order.Id] = order;
                }
            }
            if (page.Count < PageSize)
            {
                break;
            }
            after = page[^1].Sequence;
        }
        return [.. latest.Values.Where(o => now - o.UpdatedAt <= Kept)];
    }
}
