using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Regions;

/// <summary>The open work orders of one region (key: region id) as compact summaries, plus a bounded tail of recently
/// finished ones, kept from the change every order reports after each stored change (the same report that feeds the
/// live counts), never by scanning storage. Serves <c>GET /api/work-orders</c> and the dispatch console's first load.</summary>
public interface IOpenOrdersGrain : IGrain
{
    /// <summary>An order of this region was stored with this summary; an older version than the one held is ignored.
    /// One-way: the order's change is done once stored, and a storm's thousands of changes queue here, not in the
    /// order's call (a list asked for afterwards is queued after the change and sees it).</summary>
    [OneWay]
    Task OrderChanged(WorkOrderSummary order);

    /// <summary>One page of the region's orders, most urgent first. Throws <see cref="InvalidFieldException"/> for a bad
    /// limit or continuation token.</summary>
    Task<WorkOrderPage> List(WorkOrderQuery query);

    /// <summary>Every order of <paramref name="customerId"/> the list holds, open or finished, in no order.</summary>
    Task<IReadOnlyList<WorkOrderSummary>> OfCustomer(string customerId);
}
