using System.Text.Json.Serialization;

namespace Orchestrations.ThingSpace.Models;

/// <summary>One device identifier on the wire: <c>{"id":"…","kind":"…"}</c>. Kind is echoed as received.</summary>
public sealed record DeviceId
{
    /// <summary>The identifier value.</summary>
    public required string Id { get; init; }

    /// <summary>The identifier kind (esn, meid, imei, iccid, mdn, msisdn, eid, min, imsi; any case).</summary>
    public required string Kind { get; init; }
}

/// <summary>All identifiers of one device plus an optional static IP (<c>AccountDeviceList</c>).</summary>
public sealed record AccountDeviceList
{
    /// <summary>All identifiers of the device.</summary>
    public required IReadOnlyList<DeviceId> DeviceIds { get; init; }

    /// <summary>Static IP address for the activation, if any.</summary>
    public string? IpAddress { get; init; }
}

/// <summary>A wrapper of device identifiers (<c>DeviceList</c>), used by upload, order status, labels and billed usage.</summary>
public sealed record DeviceList
{
    /// <summary>The identifiers.</summary>
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
}

/// <summary>A key/value pair (<c>CustomFields</c>), also used for extended attributes.</summary>
public sealed record CustomField
{
    /// <summary>The key, e.g. <c>CustomField1</c>.</summary>
    public required string Key { get; init; }

    /// <summary>The value (≤ 50 characters for custom fields).</summary>
    public string? Value { get; init; }
}

/// <summary>Primary place of use.</summary>
public sealed record PlaceOfUse
{
    /// <summary>The physical address.</summary>
    public required Address Address { get; init; }

    /// <summary>The customer name.</summary>
    public required CustomerName CustomerName { get; init; }
}

/// <summary>A postal address.</summary>
public sealed record Address
{
    /// <summary>Physical address line (no P.O. box).</summary>
    public required string AddressLine1 { get; init; }

    /// <summary>Second line.</summary>
    public string? AddressLine2 { get; init; }

    /// <summary>City.</summary>
    public required string City { get; init; }

    /// <summary>State.</summary>
    public required string State { get; init; }

    /// <summary>ZIP code.</summary>
    public required string Zip { get; init; }

    /// <summary>ZIP+4.</summary>
    public string? Zip4 { get; init; }

    /// <summary>"US" or "USA".</summary>
    public required string Country { get; init; }

    /// <summary>Phone.</summary>
    public string? Phone { get; init; }

    /// <summary>Phone type (one letter).</summary>
    public string? PhoneType { get; init; }

    /// <summary>E-mail address.</summary>
    public string? EmailAddress { get; init; }
}

/// <summary>A customer name.</summary>
public sealed record CustomerName
{
    /// <summary>Title.</summary>
    public string? Title { get; init; }

    /// <summary>First name.</summary>
    public required string FirstName { get; init; }

    /// <summary>Middle name.</summary>
    public string? MiddleName { get; init; }

    /// <summary>Last name.</summary>
    public required string LastName { get; init; }

    /// <summary>Suffix.</summary>
    public string? Suffix { get; init; }
}

/// <summary>Device filter for move and go-to-state (<c>DeviceFilter</c>).</summary>
public sealed record DeviceFilter
{
    /// <summary>Account.</summary>
    public string? Account { get; init; }

    /// <summary>Group name.</summary>
    public string? GroupName { get; init; }

    /// <summary>Service plan.</summary>
    public string? ServicePlan { get; init; }

    /// <summary>Custom fields to match.</summary>
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
}

/// <summary>Device filter without account (suspension status).</summary>
public sealed record DeviceFilterWithoutAccount
{
    /// <summary>Group name.</summary>
    public string? GroupName { get; init; }

    /// <summary>Service plan.</summary>
    public string? ServicePlan { get; init; }

    /// <summary>Custom fields to match.</summary>
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
}

/// <summary>List-devices filter (<c>AccountDeviceListFilter</c>).</summary>
public sealed record AccountDeviceListFilter
{
    /// <summary>Identifier searches.</summary>
    public required IReadOnlyList<DeviceIdSearch> DeviceIdentifierFilters { get; init; }
}

/// <summary>A search on one identifier kind. Note the all-lower-case wire names <c>startswith</c>/<c>endswith</c>.</summary>
public sealed record DeviceIdSearch
{
    /// <summary>Identifier kind.</summary>
    public required string Kind { get; init; }

    /// <summary>Substring to match.</summary>
    public string? Contains { get; init; }

    /// <summary>Prefix to match.</summary>
    [JsonPropertyName("startswith")]
    public string? StartsWith { get; init; }

    /// <summary>Suffix to match.</summary>
    [JsonPropertyName("endswith")]
    public string? EndsWith { get; init; }
}

/// <summary>A date window (<c>DateFilter</c>), ISO-8601 strings.</summary>
public sealed record DateFilter
{
    /// <summary>Start.</summary>
    public required string Earliest { get; init; }

    /// <summary>End.</summary>
    public required string Latest { get; init; }
}

/// <summary>Carrier information of a device (response).</summary>
public sealed record CarrierInformation
{
    /// <summary>Carrier name.</summary>
    public string? CarrierName { get; init; }

    /// <summary>Service plan.</summary>
    public string? ServicePlan { get; init; }

    /// <summary>State, e.g. active, suspend, deactive, pre-active.</summary>
    public string? State { get; init; }
}

/// <summary>A usage-segmentation label.</summary>
public sealed record Label
{
    /// <summary>Name.</summary>
    public string? Name { get; init; }

    /// <summary>Value.</summary>
    public string? Value { get; init; }
}

/// <summary>A device label (name and value required).</summary>
public sealed record DeviceLabel
{
    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary>Value.</summary>
    public required string Value { get; init; }
}

/// <summary>A billing cycle.</summary>
public sealed record BillingCycle
{
    /// <summary>Year.</summary>
    public string? Year { get; init; }

    /// <summary>Month.</summary>
    public string? Month { get; init; }
}

/// <summary>The synchronous answer of an asynchronous operation: the request id every callback carries.</summary>
public sealed record DeviceManagementResult
{
    /// <summary>The request id (GUID).</summary>
    public string? RequestId { get; init; }
}
