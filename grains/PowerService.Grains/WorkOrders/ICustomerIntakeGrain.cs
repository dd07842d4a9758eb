using PowerService.Runtime;

namespace PowerService.Grains.WorkOrders;

/// <summary>Where one customer's new requests are taken (key: customer id), one at a time, so that requests sent at
/// the same moment see each other: a script cannot pass the self-service limit by sending in parallel, and two
/// reports of one fault a few milliseconds apart (the app and the hotline) make one repair, not two.</summary>
public interface ICustomerIntakeGrain : IGrain
{
    /// <summary>Takes new order <paramref name="request"/> (its summary as it will be stored): the id of the customer's
    /// open fault order it repeats (the new call folds into it) or null, after which the request counts as the
    /// customer's open order. A <see cref="DomainConflictException"/> for a self-service request past the limit of
    /// open ones; nothing is taken then.</summary>
    Task<string?> Take(WorkOrderSummary request);

    /// <summary>Request <paramref name="orderId"/>, taken, was stored (the region's order list has heard of it, and counts
    /// it from now on in whatever state it goes to) or was not (its write failed): it is no longer counted here. One-way,
    /// sent after the order's report to the list, so it arrives after the list has it.</summary>
    [OneWay]
    Task Settled(string orderId);

    /// <summary>One page of the customer's orders in <paramref name="query"/> (its customer filter is this customer):
    /// those the region <paramref name="region"/>'s order list holds and, for a finished state, those finished within
    /// <see cref="CustomerOrderHistory.Kept"/> that the list has let go.</summary>
    Task<WorkOrderPage> List(WorkOrderQuery query, string region);

    /// <summary>The customer books a visit for their order <paramref name="orderId"/> (in <paramref name="region"/>): a
    /// <see cref="DomainConflictException"/> when they already hold or have booked <c>MaxVisits</c> visits for other
    /// orders (one account holding every slot of a crew). The visits are counted where they are — the customer's
    /// Reserved orders and the live holds their orders have at crews — so a cancelled order or a released or lapsed hold
    /// frees its place at once, also after a restart; a visit being taken counts until <see cref="VisitSettled"/>.</summary>
    Task TakeVisit(string orderId, string region);

    /// <summary>The hold of <paramref name="orderId"/>'s visit was taken or refused: the order (and its crew) say which.</summary>
    [OneWay]
    Task VisitSettled(string orderId);
}
