using PowerService.Grains.Hosting;
using PowerService.Grains.Topology;

namespace PowerService.Grains.Outages;

/// <summary>How outages are inferred from meters and what customers are promised. Defaults follow common OMS practice
/// (docs/outages.md says why each value).</summary>
public sealed class OutageOptions
{
    private const string Section = "Outages";

    /// <summary>Latest estimated restoration a dispatcher or crew may set, from now: the worst storms restore within
    /// weeks (Typhoon Yagi, Hainan 2024: about two), and a later date is a typing error customers would be told.</summary>
    public TimeSpan MaxEstimatedRestoration { get; set; } = TimeSpan.FromDays(60);

    /// <summary>Share of an area's meters that must go dark inside <see cref="InferenceWindow"/> to suspect an area
    /// outage.</summary>
    public double SuspectShare { get; set; } = 0.3;

    /// <summary>Never fewer dark meters than this for an area outage: one or two dark meters are a service drop or a
    /// customer-side fault, not a transformer.</summary>
    public int MinimumDarkMeters { get; set; } = 3;

    /// <summary>Dark share at which meters alone confirm the outage (customers are then told).</summary>
    public double ConfirmShare { get; set; } = 0.6;

    /// <summary>Last gasps further apart than this do not add up to one outage.</summary>
    public TimeSpan InferenceWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Share of a feeder's transformer areas out at once that makes it a feeder outage.</summary>
    public double FeederShare { get; set; } = 0.5;

    /// <summary>Never fewer areas than this for a feeder outage.</summary>
    public int MinimumFeederAreas { get; set; } = 2;

    /// <summary>How long after an area is restored its meters may take to report power before the ones still dark are
    /// opened as a nested outage.</summary>
    public TimeSpan NestedOutageGrace { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>A meter heard from (power restored or a reading) this recently, and not dark since, has power: a fault
    /// call from its customer is a "verify / customer side" case.</summary>
    public TimeSpan PowerOnEvidence { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A fault call this long before an area's outage started, still waiting for its crew to set off, is folded
    /// into the outage when the outage is inferred: the customer called before the head-end's last gasps arrived, and
    /// without this the call and the outage would send two crews to one fault.</summary>
    public TimeSpan CallsBeforeOutage { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>An unplanned outage restored within this long of its start is a momentary interruption (a recloser's
    /// trip and close, last gasps and restores in separate batches): kept on record, but not an interruption in SAIFI,
    /// SAIDI and CAIDI, nor a cut in the repeated-outage counts. DL/T 836 counts interruptions longer than 3 minutes
    /// (IEEE 1366: 5 minutes); docs/indicators.md.</summary>
    public TimeSpan MomentaryAtMost { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long an area's meter flags (which meter is dark since when, the newest event applied) may wait to
    /// be written after they changed. Opening and ending an outage are written at once; only the flags lag. In a
    /// storm every area changes every second, and writing each area's flags every second was most of the burst's
    /// storage work. A crash loses at most this much of the flags: the outage stays, late events are re-applied.</summary>
    public TimeSpan MeterFlagsWriteBehind { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an area waits for its feeder to acknowledge an outage it handed over before it sends it again
    /// (the hand-over is one-way and idempotent; it is also sent again when the area is next activated).</summary>
    public TimeSpan HandOverRetry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Area outages the feeders open at once, across the silo. In a storm thousands are handed over within
    /// seconds; each opening (outage, repair order, dispatch, roll-up) is a chain of calls and writes, and all of them at
    /// once would take every core and the store from the dispatchers' and crews' own calls.</summary>
    public int OpeningsInFlight { get; set; } = 16;

    /// <summary>Shortest time between two estimate notices to an outage's customers: changes made sooner after the
    /// last one are told once, the latest, when it has passed (the live views show each change at once). A text message
    /// per edit reached every customer of the outage each time.</summary>
    public TimeSpan EtrNoticeInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Default estimated restoration, from the start, by area class (DESIGN §5: arrival + restoration promise).</summary>
    public TimeSpan UrbanRestoration { get; set; } = TimeSpan.FromMinutes(45) + TimeSpan.FromHours(3);

    public TimeSpan RuralRestoration { get; set; } = TimeSpan.FromMinutes(90) + TimeSpan.FromHours(4);

    public TimeSpan RemoteRestoration { get; set; } = TimeSpan.FromMinutes(120) + TimeSpan.FromHours(4);

    public TimeSpan DefaultRestoration(AreaClass areaClass) => areaClass switch
    {
        AreaClass.Rural => RuralRestoration,
        AreaClass.Remote => RemoteRestoration,
        _ => UrbanRestoration,
    };

    /// <summary>A value outside its range stops the silo with one line naming it (one line for nine settings named none).</summary>
    internal void Validate()
    {
        WorkflowSettings.Require(Section, SuspectShare is > 0 and <= 1, nameof(SuspectShare), "must be a share in (0, 1]");
        WorkflowSettings.Require(Section, ConfirmShare >= SuspectShare && ConfirmShare <= 1, nameof(ConfirmShare), "must be a share in (0, 1], at least SuspectShare");
        WorkflowSettings.Require(Section, FeederShare is > 0 and <= 1, nameof(FeederShare), "must be a share in (0, 1]");
        WorkflowSettings.Require(Section, MinimumDarkMeters >= 1, nameof(MinimumDarkMeters), "must be at least 1");
        WorkflowSettings.Require(Section, MinimumFeederAreas >= 1, nameof(MinimumFeederAreas), "must be at least 1");
        WorkflowSettings.Require(Section, OpeningsInFlight >= 1, nameof(OpeningsInFlight), "must be at least 1");
        WorkflowSettings.Require(Section, InferenceWindow > TimeSpan.Zero, nameof(InferenceWindow), "must be positive");
        WorkflowSettings.Require(Section, MeterFlagsWriteBehind > TimeSpan.Zero, nameof(MeterFlagsWriteBehind), "must be positive");
        WorkflowSettings.Require(Section, HandOverRetry > TimeSpan.Zero, nameof(HandOverRetry), "must be positive");
        WorkflowSettings.Require(Section, NestedOutageGrace >= TimeSpan.Zero, nameof(NestedOutageGrace), "must not be negative");
        WorkflowSettings.Require(Section, CallsBeforeOutage >= TimeSpan.Zero, nameof(CallsBeforeOutage), "must not be negative");
        WorkflowSettings.Require(Section, MomentaryAtMost >= TimeSpan.Zero, nameof(MomentaryAtMost), "must not be negative (0: no outage counts as a blink, every detected notice goes out at once)");
    }
}
