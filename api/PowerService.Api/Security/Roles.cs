namespace PowerService.Api.Security;

/// <summary>Who a token holder is (DESIGN.md §6). A crew token is bound to one crew, a customer token to one customer.</summary>
public static class Roles
{
    public const string Dispatcher = "dispatcher";
    public const string Crew = "crew";
    public const string Customer = "customer";
    public const string Operator = "operator";

    /// <summary>The AMI head-end: a machine account that posts meter events and nothing else.</summary>
    public const string Ami = "ami";

    /// <summary>The roles of people (every role but the head-end's): the default policy of the API's endpoints.</summary>
    public static readonly string[] People = [Dispatcher, Crew, Customer, Operator];

    /// <summary>Policy of the few endpoints any account may call (who am I).</summary>
    public const string AnyAccount = "any-account";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Dispatcher, Crew, Customer, Operator, Ami };

    /// <summary>Claim naming the crew a crew token acts for.</summary>
    public const string CrewIdClaim = "crew_id";

    /// <summary>Claim naming the customer a customer token acts for.</summary>
    public const string CustomerIdClaim = "customer_id";
}
