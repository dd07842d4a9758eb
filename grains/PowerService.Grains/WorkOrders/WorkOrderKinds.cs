namespace PowerService.Grains.WorkOrders;

public enum WorkOrderKind
{
    /// <summary>抢修</summary>
    FaultRepair,
    /// <summary>业扩报装: new connection or capacity change; its promised time depends on the <see cref="ConnectionCategory"/>.</summary>
    NewConnection,
    MeterInstallation,
    /// <summary>校验</summary>
    MeterVerification,
    /// <summary>勘查</summary>
    OnSiteSurvey,
    Complaint,
    Consultation,
    /// <summary>复电: supply restored to a customer cut for arrears, once paid (within 24 hours). Added last: stored
    /// orders keep the numbers of the kinds before it.</summary>
    Reconnection,
}

/// <summary>Customer category of a new connection (业扩), which sets the utility's handling time.</summary>
public enum ConnectionCategory
{
    Residential,
    LowVoltageNonResidential,
    HighVoltageSingleSupply,
    HighVoltageDualSupply,
}

public enum IntakeChannel
{
    Hotline95598,
    App,
    WeChat,
    Sms,
    Web,
    ServiceHall,
    /// <summary>Raised by a crew on its PDA.</summary>
    Field,
    /// <summary>Raised automatically from smart-meter events.</summary>
    Meter,
}

public static class IntakeChannels
{
    /// <summary>The channels a customer reaches the service through by themself: app, WeChat, SMS, web. The hotline
    /// and the service hall are an agent's, the field and the meter the system's.</summary>
    public static readonly IReadOnlyList<IntakeChannel> SelfService = [IntakeChannel.App, IntakeChannel.WeChat, IntakeChannel.Sms, IntakeChannel.Web];

    public static bool IsSelfService(this IntakeChannel channel) => SelfService.Contains(channel);
}

public enum WorkOrderPriority
{
    Low,
    Normal,
    High,
    Emergency,
}
