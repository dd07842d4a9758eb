namespace PowerService.Grains.Crews;

public enum CrewSkill
{
    LowVoltageRepair,
    HighVoltageRepair,
    Metering,
    Survey,
    Connection,
    CustomerService,
}

public enum CrewStatus
{
    Available,
    Travelling,
    OnSite,
    OffShift,
}
