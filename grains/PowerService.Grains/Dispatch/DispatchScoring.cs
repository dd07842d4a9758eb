using PowerService.Grains.Crews;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Dispatch;

/// <summary>Who may take an order and what it costs, in minutes: travel from the crew's last known location, the wait
/// behind the orders it already holds, and lateness past the promised arrival weighted by priority. Pure, so the
/// dispatch grain, storm batches and the benchmarks score the same way.</summary>
internal sealed class DispatchScoring(DispatchOptions options)
{
    /// <summary>The skill a crew needs for each kind of order. Fault calls from customers are low-voltage work; a
    /// high-voltage fault reaches a crew through an outage, not through a customer order.</summary>
    private static readonly Dictionary<WorkOrderKind, CrewSkill> SkillFor = new()
    {
        [WorkOrderKind.FaultRepair] = CrewSkill.LowVoltageRepair,
        [WorkOrderKind.NewConnection] = CrewSkill.Connection,
        [WorkOrderKind.MeterInstallation] = CrewSkill.Metering,
        [WorkOrderKind.MeterVerification] = CrewSkill.Metering,
        [WorkOrderKind.OnSiteSurvey] = CrewSkill.Survey,
        [WorkOrderKind.Complaint] = CrewSkill.CustomerService,
        [WorkOrderKind.Consultation] = CrewSkill.CustomerService,
        // Closing the meter's switch again (or the service drop's fuse): metering work.
        [WorkOrderKind.Reconnection] = CrewSkill.Metering,
    };

    /// <summary>A minute late on an emergency costs eight times a minute late on a low-priority order.</summary>
    private static readonly Dictionary<WorkOrderPriority, double> LatenessWeight = new()
    {
        [WorkOrderPriority.Low] = 0.5,
        [WorkOrderPriority.Normal] = 1,
        [WorkOrderPriority.High] = 2,
        [WorkOrderPriority.Emergency] = 4,
    };

    private readonly double _minutesPerKm = options.RoadFactor / options.TravelSpeedKmh * 60;
    private readonly double _loadPenalty = options.LoadPenaltyMinutes;

    public static CrewSkill SkillForKind(WorkOrderKind kind) => SkillFor[kind];

    public static int SkillMask(IEnumerable<CrewSkill> skills) => skills.Aggregate(0, (mask, s) => mask | (1 << (int)s));

    public static bool OnShift(IReadOnlyList<Shift> shifts, DateTimeOffset now)
    {
        for (var i = 0; i < shifts.Count; i++)
        {
            if (shifts[i].Start <= now && now < shifts[i].End)
            {
                return true;
            }
        }
        return false;
    }

    public double TravelMinutes(GeoPoint from, GeoPoint to) => from.DistanceKm(to) * _minutesPerKm;

    /// <summary>Never more than <see cref="TravelMinutes"/>: a great circle is at least as long as the meridian arc
    /// between the two latitudes (the radius is rounded down to keep it a bound). Costs no trigonometry, so a scan can
    /// skip crews that cannot beat the best so far.</summary>
    public double TravelMinutesAtLeast(GeoPoint from, GeoPoint to) =>
        Math.Abs(from.Latitude - to.Latitude) * (Math.PI / 180 * 6371) * _minutesPerKm;

    /// <summary>The cost of the order as the crew's next order after <paramref name="queued"/> others.</summary>
    public double Cost(double travelMinutes, int queued, DispatchRequest order, DateTimeOffset now) =>
        Cost(travelMinutes, queued, UrgencyOf(order, now));

    /// <summary>The order's part of the cost, computed once per decision rather than once per crew.</summary>
    public static Urgency UrgencyOf(DispatchRequest order, DateTimeOffset now) =>
        new((now - order.ArrivalDueAt).TotalMinutes, LatenessWeight[order.Priority]);

    /// <summary>Grows with travel and with the queue, so a lower bound on travel gives a lower bound on cost.</summary>
    public double Cost(double travelMinutes, int queued, Urgency urgency)
    {
        var wait = queued * _loadPenalty;
        var lateMinutes = urgency.OverdueMinutes + travelMinutes + wait;
        return travelMinutes + wait + (lateMinutes > 0 ? lateMinutes * urgency.Weight : 0);
    }
}

/// <summary>How far past its promised arrival an order already is (negative: slack left) and how much a late minute
/// weighs for its priority.</summary>
internal readonly record struct Urgency(double OverdueMinutes, double Weight);
